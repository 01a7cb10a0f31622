package org.vfioorchestrator.install;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files the jar carries for installing (copied in by Maven from the repository):
 * the hook shim {@code hooks/qemu}, the launcher {@code vfio-orchestrator} and the
 * profile template {@code profiles/template.yaml}.
 */
final class Resources {
    static final String SHIM = "hooks/qemu";
    static final String LAUNCHER = "vfio-orchestrator";
    static final String TEMPLATE = "profiles/template.yaml";

    /** Every copy of the shim carries this line; it tells our hooks/qemu from someone else's. */
    static final String SHIM_MARKER = "# vfio-orchestrator hook shim:";

    private Resources() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = Resources.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar; rebuild it with mvn package");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

    static boolean isShim(byte[] content) {
        return new String(content, StandardCharsets.UTF_8).contains("\n" + SHIM_MARKER);
    }

    /**
     * The shim with its three settings filled in: where profiles live, the jar to run, and the
     * hooks/qemu to run first ({@code null}: none), quoted for sh where needed.
     */
    static byte[] shim(String profilesDir, String jar, String chain) {
        String text = new String(bytes(SHIM), StandardCharsets.UTF_8);
        text = setting(text, "profiles", quote(profilesDir));
        text = setting(text, "jar", quote(jar));
        text = setting(text, "chain", chain == null ? "" : quote(chain));
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The value of a setting in an installed shim ({@code chain=...}), unquoted; empty when unset. */
    static String settingOf(byte[] shim, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "=(.*)$").matcher(new String(shim, StandardCharsets.UTF_8));
        if (!m.find()) {
            return "";
        }
        String v = m.group(1).strip();
        if (v.startsWith("'") && v.endsWith("'") && v.length() >= 2) {
            v = v.substring(1, v.length() - 1).replace("'\\''", "'");
        }
        return v;
    }

    private static String setting(String text, String name, String value) {
        Matcher m = Pattern.compile("(?m)^" + name + "=.*$").matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("the shim has no '" + name + "=' line");
        }
        return text.substring(0, m.start()) + name + "=" + value + text.substring(m.end());
    }

    /** A plain path stays plain (others read {@code profiles=/...} from the shim); anything else is single-quoted. */
    static String quote(String value) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a path with a newline: " + value);
        }
        if (value.matches("[A-Za-z0-9/._+-]+")) {
            return value;
        }
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
