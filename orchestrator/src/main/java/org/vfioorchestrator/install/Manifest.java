package org.vfioorchestrator.install;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.vfioorchestrator.OrchestratorException;

/**
 * What {@code install} did, step by step, so {@code uninstall} undoes exactly that and
 * nothing else: directories it created, files it wrote (with their hash, so a file
 * someone changed since is left alone), a foreign {@code hooks/qemu} it moved aside, and
 * the class-data-sharing archive. Each step is recorded before it is carried out. Immutable.
 *
 * @param placement   how the hook went in: {@link Placement}
 * @param packageName the distribution package whose maintainer scripts installed it ({@code install --package}),
 *                    or null for an install by hand
 */
public record Manifest(String prefix, String hooksDir, String libvirt, Placement placement, String installedAt,
        String packageName, List<Step> steps) {
    public static final String PATH = "/etc/vfio-orchestrator/install.manifest";
    /** 2: ARCHIVE steps carry the archive's hash and the jar's it was trained with. 1 is still read. */
    static final int VERSION = 2;
    /** A manifest lists a few dozen steps; anything much larger is not one. */
    static final int MAX_BYTES = 1 << 20;

    public Manifest {
        steps = List.copyOf(steps);
    }

    /** Where the shim was put. */
    public enum Placement {
        /** {@code hooks/qemu.d/vfio-orchestrator}: libvirt >= 6.5 runs it besides any hooks/qemu. */
        HOOK_DIR,
        /** {@code hooks/qemu}: there was none (or older libvirt). */
        HOOK_FILE,
        /** {@code hooks/qemu}, running the previous one (moved to hooks/qemu.orig) first. */
        CHAINED
    }

    /** ARCHIVE: the class-data-sharing archive beside the jar, which 'cds-archive' may rewrite since. */
    public enum Action { MKDIR, FILE, MOVE, ARCHIVE }

    /**
     * One thing install did: MKDIR path; FILE path + sha256 of what was written; MOVE path to {@code to};
     * ARCHIVE path + sha256 of the archive written (null while it is being written) + {@code jarSha256}, the
     * jar it was trained with (an archive only works with that jar).
     */
    public record Step(Action action, String path, String sha256, String to, String jarSha256) {
        static Step mkdir(String path) {
            return new Step(Action.MKDIR, path, null, null, null);
        }

        static Step file(String path, String sha256) {
            return new Step(Action.FILE, path, sha256, null, null);
        }

        static Step move(String from, String to) {
            return new Step(Action.MOVE, from, null, to, null);
        }

        static Step archive(String path, String sha256, String jarSha256) {
            return new Step(Action.ARCHIVE, path, sha256, null, jarSha256);
        }

        /** For messages: control characters as '?', so a hostile path cannot add lines to them. */
        String shown() {
            return (action + " " + path + (to == null ? "" : " -> " + to)).replaceAll("\\p{Cc}", "?");
        }
    }

    Layout layout() {
        return new Layout(prefix, hooksDir);
    }

    public Manifest with(Step step) {
        List<Step> list = new ArrayList<>(steps);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).action() == step.action() && list.get(i).path().equals(step.path())) {
                list.set(i, step);
                return new Manifest(prefix, hooksDir, libvirt, placement, installedAt, packageName, list);
            }
        }
        list.add(step);
        return new Manifest(prefix, hooksDir, libvirt, placement, installedAt, packageName, list);
    }

    Manifest without(Step step) {
        return withSteps(steps.stream().filter(s -> !(s.action() == step.action() && s.path().equals(step.path()))).toList());
    }

    Manifest withSteps(List<Step> list) {
        return new Manifest(prefix, hooksDir, libvirt, placement, installedAt, packageName, list);
    }

    public Optional<Step> step(Action action, String path) {
        return steps.stream().filter(s -> s.action() == action && s.path().equals(path)).findFirst();
    }

    /** The installed shim's path. */
    public String hookPath() {
        return layout().hookPath(placement);
    }

    byte[] toBytes() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("comment", "what 'vfio-orchestrator install' did; 'vfio-orchestrator uninstall' undoes it. Do not edit.");
        m.put("version", VERSION);
        m.put("prefix", prefix);
        m.put("hooksDir", hooksDir);
        m.put("libvirt", libvirt);
        m.put("placement", placement.name());
        m.put("installedAt", installedAt);
        putIfSet(m, "package", packageName);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Step s : steps) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("action", s.action().name());
            sm.put("path", s.path());
            putIfSet(sm, "sha256", s.sha256());
            putIfSet(sm, "to", s.to());
            putIfSet(sm, "jarSha256", s.jarSha256());
            list.add(sm);
        }
        m.put("steps", list);
        try {
            return (JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void putIfSet(Map<String, Object> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    private static final Set<String> KEYS = Set.of("comment", "version", "prefix", "hooksDir", "libvirt", "placement",
            "installedAt", "package", "steps");
    private static final Set<String> STEP_KEYS = Set.of("action", "path", "sha256", "to", "jarSha256");

    /**
     * Reads a manifest and checks every step against what install could have done with its prefix, hook
     * directory and placement ({@link Layout#allows}): uninstall acts as root on exactly these paths.
     */
    static Manifest parse(byte[] bytes, String where) {
        Map<String, Object> m;
        try {
            m = JSON.std.with(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS).mapFrom(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw bad(where, "it is not JSON: " + firstLine(e.getMessage()));
        }
        if (m == null) {
            throw bad(where, "it is not a JSON object");
        }
        if (!(m.get("version") instanceof Number v) || v.intValue() < 1 || v.intValue() > VERSION
                || v.doubleValue() != v.intValue()) {
            throw bad(where, "it has version " + m.get("version") + ", this tool reads 1 to " + VERSION);
        }
        unknownKeys(where, "", m.keySet(), KEYS);
        String prefix = directory(where, m, "prefix");
        String hooks = directory(where, m, "hooksDir");
        Placement placement = constant(where, "placement", m.get("placement"), Placement.class);
        Layout layout = new Layout(prefix, hooks);
        if (!(m.get("steps") instanceof List<?> list)) {
            throw bad(where, "'steps' is not a list");
        }
        List<Step> steps = new ArrayList<>();
        for (Object o : list) {
            String n = "step " + (steps.size() + 1);
            if (!(o instanceof Map<?, ?> sm)) {
                throw bad(where, n + " is not an object");
            }
            unknownKeys(where, n + ": ", sm.keySet(), STEP_KEYS);
            Action action = constant(where, n + ": action", sm.get("action"), Action.class);
            String path = text(where, n, sm, "path");
            String to = action == Action.MOVE ? text(where, n, sm, "to") : absent(where, n, sm, "to");
            String sha = switch (action) {
                case FILE -> hash(where, n, sm, "sha256", true);
                case ARCHIVE -> hash(where, n, sm, "sha256", false);
                default -> absent(where, n, sm, "sha256");
            };
            String jarSha = action == Action.ARCHIVE ? hash(where, n, sm, "jarSha256", false) : absent(where, n, sm, "jarSha256");
            Step step = new Step(action, path, sha, to, jarSha);
            if (!Layout.isPlainPath(path) || to != null && !Layout.isPlainPath(to)) {
                throw bad(where, n + " (" + step.shown() + ") is not an absolute path spelled plainly (no '.', '..' or"
                        + " '//')");
            }
            if (!layout.allows(step, placement)) {
                throw bad(where, n + " (" + step.shown() + ") is not something install does with prefix '" + prefix
                        + "', hook directory " + hooks + " and placement " + placement);
            }
            steps.add(step);
        }
        Object libvirt = m.get("libvirt");
        Object installedAt = m.get("installedAt");
        Object pkg = m.get("package");
        if (pkg != null && !(pkg instanceof String name && isPackageName(name))) {
            throw bad(where, "'package' is not a package name: " + pkg);
        }
        return new Manifest(prefix, hooks, libvirt instanceof String s ? s : null, placement,
                installedAt instanceof String s ? s : null, (String) pkg, steps);
    }

    /** Debian's rule for a package name: lower-case letters, digits, '+', '-' and '.', starting alphanumeric. */
    static boolean isPackageName(String name) {
        return name.matches("[a-z0-9][a-z0-9+.-]+");
    }

    private static String directory(String where, Map<?, ?> m, String key) {
        Object v = m.get(key);
        String dir = v instanceof String s ? Layout.directory(s) : null;
        if (dir == null) {
            throw bad(where, "'" + key + "' is not an absolute directory spelled plainly: " + v);
        }
        return dir;
    }

    private static <E extends Enum<E>> E constant(String where, String what, Object v, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(v)) {
                return e;
            }
        }
        throw bad(where, what + " is " + v + ", not one of " + List.of(type.getEnumConstants()));
    }

    private static String text(String where, String n, Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String s) || s.isEmpty()) {
            throw bad(where, n + " has no '" + key + "'");
        }
        return s;
    }

    private static String absent(String where, String n, Map<?, ?> m, String key) {
        if (m.containsKey(key)) {
            throw bad(where, n + ": '" + key + "' does not belong to a " + m.get("action") + " step");
        }
        return null;
    }

    /** A sha256 in lower-case hex; {@code required} false: may be missing (an ARCHIVE being written, or version 1). */
    private static String hash(String where, String n, Map<?, ?> m, String key, boolean required) {
        Object v = m.get(key);
        if (v == null && !required) {
            return null;
        }
        if (!(v instanceof String s) || !s.matches("[0-9a-f]{64}")) {
            throw bad(where, n + ": '" + key + "' is not a sha256 (64 hex digits): " + v);
        }
        return s;
    }

    private static void unknownKeys(String where, String n, Set<?> keys, Set<String> known) {
        for (Object k : keys) {
            if (!known.contains(k)) {
                throw bad(where, n + "unknown key '" + k + "'");
            }
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").strip();
    }

    /** Uninstall and install stop here, before changing anything. */
    private static OrchestratorException bad(String where, String why) {
        return OrchestratorException.data(where + ": refusing the install manifest: " + why + ". Nothing was changed;"
                + " if nobody edited it by hand, find out who did. To clean up by hand: remove what README's 'Installing"
                + " the hook' lists, then this file");
    }
}
