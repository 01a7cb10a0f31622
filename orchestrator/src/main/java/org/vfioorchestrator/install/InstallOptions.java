package org.vfioorchestrator.install;

import java.nio.file.Path;
import java.util.Arrays;
import org.vfioorchestrator.OrchestratorException;

/** The options install and uninstall share, checked alike: a user mistake is a usage error naming the option. */
final class InstallOptions {
    private InstallOptions() {
    }

    /** {@code --package}: a Debian package name. */
    static String packageOption(String name) {
        if (!Manifest.isPackageName(name)) {
            throw OrchestratorException.usage("--package " + name + ": not a package name (lower-case letters, digits,"
                    + " '+', '-' and '.')");
        }
        return name;
    }

    /** {@code --prefix} and {@code --libvirt-hooks}: absolute, without {@code ..}; normalised, {@code /} as "". */
    static String directoryOption(String option, String path) {
        if (path == null || !path.startsWith("/") || path.chars().anyMatch(c -> c < 0x20)
                || Arrays.asList(path.split("/")).contains("..")) {
            throw OrchestratorException.usage(option + " " + path + ": give an absolute directory such as /usr/local");
        }
        String p = Path.of(path).normalize().toString();
        return p.equals("/") ? "" : p;
    }
}
