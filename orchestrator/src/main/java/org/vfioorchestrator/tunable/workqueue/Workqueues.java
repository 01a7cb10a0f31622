package org.vfioorchestrator.tunable.workqueue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.ProfileWalk;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.ProfiledTunable;

/**
 * The unbound workqueues' cpumask, and those of the workqueues the profile names ({@code workqueues.also}, e.g.
 * {@code writeback}), set to the host CPUs: kernel work queued from anywhere then runs off the VM's CPUs.
 * Reads each cpumask file under {@value #WORKQUEUES} (path to mask as the kernel prints it).
 */
public final class Workqueues extends ProfiledTunable<Map<String, String>, Workqueues.Settings> {
    public static final ChangeKind KIND = new ChangeKind("workqueue", "workqueues");
    static final String WORKQUEUES = "/sys/devices/virtual/workqueue";

    /** {@code also}: per-workqueue cpumask files set too, e.g. {@code writeback}. */
    public record Settings(boolean moveToHost, List<String> also) {
    }

    /** Built after the constants its constructor uses. */
    public static final Workqueues UNIT = new Workqueues();

    private Workqueues() {
        super(KIND, "workqueues", Set.of("move_to_host", "also"), new Settings(true, List.of("writeback")));
    }

    // ---- the profile section -------------------------------------------------------------

    @Override
    public Settings parse(YamlNode node, Input in) {
        ProfileWalk w = in.walk();
        Settings settings = defaults();
        boolean move = settings.moveToHost();
        List<String> also = settings.also();
        Map<String, YamlNode> m = w.mapping(node, "workqueues");
        if (m.containsKey("move_to_host")) {
            Boolean b = w.bool(m.get("move_to_host"), "workqueues.move_to_host");
            move = b == null || b;
        }
        if (m.containsKey("also")) {
            List<String> names = w.words(m.get("also"), "workqueues.also");
            if (names != null) {
                for (String name : names) {
                    if (!isWorkqueueName(name) || !in.host().workqueueHasCpumask(name)) {
                        w.problem(m.get("also"), "workqueues.also", "'" + name
                                + "' has no cpumask in /sys/devices/virtual/workqueue/ on this host; write one of "
                                + in.host().workqueuesWithCpumask());
                    }
                }
                also = names;
            }
        }
        return new Settings(move, also);
    }

    /** A name that can only mean a directory right under /sys/devices/virtual/workqueue/: letters, digits, _ . -, not "." or "..". */
    private static boolean isWorkqueueName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            return false; // "." would name the unbound workqueues' own cpumask a second time
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "_.-".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    // ---- the host ------------------------------------------------------------------------

    @Override
    public Map<String, String> read(HostFs host, ReadScope scope) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> paths = new ArrayList<>(List.of(WORKQUEUES + "/cpumask"));
        for (String wq : host.list(WORKQUEUES)) {
            paths.add(WORKQUEUES + "/" + wq + "/cpumask");
        }
        for (String path : paths) {
            Optional<String> mask = host.read(path);
            if (mask.isPresent()) {
                out.put(path, mask.get().strip());
            }
        }
        return out;
    }

    // ---- the plan ------------------------------------------------------------------------

    @Override
    public void plan(Map<String, String> masks, Planning plan) {
        Settings s = plan.first().settings(this);
        if (!s.moveToHost()) {
            return;
        }
        for (Map.Entry<String, String> e : masks.entrySet()) {
            String path = e.getKey();
            boolean global = path.equals(WORKQUEUES + "/cpumask");
            String name = global ? null : path.substring(WORKQUEUES.length() + 1, path.lastIndexOf('/'));
            if (global || s.also().contains(name)) {
                plan.write(KIND, path, e.getValue(), Planning.sameWidthMask(plan.hostCpus(), e.getValue()), ValueFormat.CPU_MASK,
                        global ? "unbound kernel work (e.g. writeback) runs on the host CPUs"
                                : "the " + name + " workqueue runs on the host CPUs");
            }
        }
    }
}
