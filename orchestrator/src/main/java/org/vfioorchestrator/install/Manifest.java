package org.vfioorchestrator.install;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;

/**
 * What {@code install} did, step by step, so {@code uninstall} undoes exactly that and
 * nothing else: directories it created, files it wrote (with their hash, so a file
 * someone changed since is left alone), and a foreign {@code hooks/qemu} it moved aside.
 * Each step is recorded before it is carried out. Immutable.
 *
 * @param placement how the hook went in: {@link Placement}
 */
public record Manifest(String prefix, String hooksDir, String libvirt, Placement placement, String installedAt,
        List<Step> steps) {
    public static final String PATH = "/etc/vfio-orchestrator/install.manifest";
    static final int VERSION = 1;

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

    /** ARCHIVE: the class-data-sharing archive beside the jar, rewritten by 'cds-archive' (so no hash). */
    public enum Action { MKDIR, FILE, MOVE, ARCHIVE }

    /**
     * One thing install did: MKDIR path; FILE path + sha256 of what was written; MOVE path to
     * {@code to}; ARCHIVE path.
     */
    public record Step(Action action, String path, String sha256, String to) {
        static Step mkdir(String path) {
            return new Step(Action.MKDIR, path, null, null);
        }

        static Step file(String path, String sha256) {
            return new Step(Action.FILE, path, sha256, null);
        }

        static Step move(String from, String to) {
            return new Step(Action.MOVE, from, null, to);
        }

        static Step archive(String path) {
            return new Step(Action.ARCHIVE, path, null, null);
        }
    }

    public Manifest with(Step step) {
        List<Step> list = new ArrayList<>(steps);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).action() == step.action() && list.get(i).path().equals(step.path())) {
                list.set(i, step);
                return new Manifest(prefix, hooksDir, libvirt, placement, installedAt, list);
            }
        }
        list.add(step);
        return new Manifest(prefix, hooksDir, libvirt, placement, installedAt, list);
    }

    public Optional<Step> step(Action action, String path) {
        return steps.stream().filter(s -> s.action() == action && s.path().equals(path)).findFirst();
    }

    /** The installed shim's path. */
    public String hookPath() {
        return placement == Placement.HOOK_DIR ? hooksDir + "/qemu.d/vfio-orchestrator" : hooksDir + "/qemu";
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
        List<Map<String, Object>> list = new ArrayList<>();
        for (Step s : steps) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("action", s.action().name());
            sm.put("path", s.path());
            if (s.sha256() != null) {
                sm.put("sha256", s.sha256());
            }
            if (s.to() != null) {
                sm.put("to", s.to());
            }
            list.add(sm);
        }
        m.put("steps", list);
        try {
            return (JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Manifest parse(byte[] bytes, String where) {
        try {
            Map<String, Object> m = JSON.std.mapFrom(new String(bytes, StandardCharsets.UTF_8));
            if (!(m.get("version") instanceof Number v) || v.intValue() != VERSION) {
                throw bad(where, "it has version " + m.get("version") + ", this tool reads " + VERSION);
            }
            List<Step> steps = new ArrayList<>();
            for (Object o : (List<?>) m.get("steps")) {
                Map<?, ?> sm = (Map<?, ?>) o;
                Action action = Action.valueOf((String) sm.get("action"));
                steps.add(new Step(action, required(sm, "path"), (String) sm.get("sha256"),
                        action == Action.MOVE ? required(sm, "to") : null));
            }
            return new Manifest(required(m, "prefix"), required(m, "hooksDir"), (String) m.get("libvirt"),
                    Placement.valueOf(required(m, "placement")), (String) m.get("installedAt"), steps);
        } catch (IOException | RuntimeException e) {
            if (e instanceof OrchestratorException oe) {
                throw oe;
            }
            throw bad(where, "it does not parse: " + e.getMessage());
        }
    }

    private static String required(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String s) || s.isEmpty()) {
            throw new IllegalArgumentException("no '" + key + "'");
        }
        if (s.indexOf('\0') >= 0 || !key.equals("placement") && !s.startsWith("/")) {
            throw new IllegalArgumentException("'" + key + "' is not an absolute path: " + s);
        }
        return s;
    }

    private static OrchestratorException bad(String where, String why) {
        return OrchestratorException.data(where + ": cannot use the install manifest: " + why
                + ". It lists what install did (JSON): undo those steps by hand, then remove it");
    }
}
