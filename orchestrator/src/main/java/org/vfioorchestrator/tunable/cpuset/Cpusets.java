package org.vfioorchestrator.tunable.cpuset;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.profile.ProfileWalk;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.ProfiledTunable;

/**
 * The host's processes confined to the host CPUs, through the first backend the host has ({@code cgroups.mode}
 * chooses one): {@link SystemdSlices} (runtime AllowedCPUs, cgroup v2 where systemd runs and owns the tree),
 * {@link CgroupV2} and {@link CgroupV1} (cgroupfs written directly). machine.slice, where libvirt puts QEMU, and
 * the kept daemons (libvirtd) keep every CPU: libvirt must be able to give QEMU the VM's CPUs.
 */
public final class Cpusets extends ProfiledTunable<Cpusets.Confinement, Cpusets.Settings> {
    public static final ChangeKind KIND = new ChangeKind("cpuset", "cpusets");
    /** libvirt's slice for VMs: it must keep the VMs' CPUs or QEMU cannot be pinned. */
    public static final String MACHINE_SLICE = "machine.slice";
    /** The systemd property that confines a unit's processes to CPUs. */
    public static final String ALLOWED_CPUS = "AllowedCPUs";
    /** Why a plan confines a cgroup, and why it leaves one alone: */
    static final String WHY = "host processes run on the host CPUs only";
    static final String MACHINE_SLICE_WHY = "libvirt's VMs run here; it keeps every CPU so QEMU can be pinned";
    static final String KEPT_WHY = "kept with every CPU (cgroups.keep): libvirt must be able to give QEMU the VM's CPUs";

    /**
     * How the host's processes are confined: {@code systemd} through systemd's runtime AllowedCPUs (cgroup
     * v2 hosts where systemd runs, which owns the tree), {@code v2} and {@code v1} by writing cgroupfs,
     * {@code auto} the first of these the host has.
     */
    public enum Mode { AUTO, SYSTEMD, V2, V1, NONE }

    /**
     * @param root the cgroup directory treated as "the host" (its tasks are confined); null: the backend's own
     * @param keep process names (v1) and services (v2) left with every CPU (libvirt must keep the VM's CPUs)
     */
    public record Settings(Mode mode, String root, List<String> keep) {
    }

    /** What a backend read of the host's cgroups: the plan is its backend's. */
    public sealed interface Confinement permits SystemdSlices.Units, CgroupV2.Tree, CgroupV1.Tree, Unconfined {
    }

    /** No backend: processes stay where they are; {@code why} says how that came about. */
    public record Unconfined(String why) implements Confinement {
    }

    /** Built after the constants its constructor uses. */
    public static final Cpusets UNIT = new Cpusets();

    private Cpusets() {
        super(KIND, "cgroups", Set.of("mode", "root", "keep"), new Settings(Mode.AUTO, null, List.of("libvirtd", "virtqemud")));
    }

    // ---- the profile section -------------------------------------------------------------

    @Override
    public Settings parse(YamlNode node, Input in) {
        ProfileWalk w = in.walk();
        Settings d = defaults();
        Mode mode = d.mode();
        String root = null;
        List<String> keep = d.keep();
        Map<String, YamlNode> m = w.mapping(node, "cgroups");
        if (m.containsKey("mode")) {
            Mode c = w.choice(m.get("mode"), "cgroups.mode", Mode.class);
            mode = c == null ? mode : c;
        }
        if (m.containsKey("root")) {
            root = cgroupRoot(m.get("root"), mode, in);
        }
        if (m.containsKey("keep")) {
            List<String> k = w.words(m.get("keep"), "cgroups.keep");
            keep = k == null ? keep : k;
        }
        return new Settings(mode, root, keep);
    }

    /**
     * A cgroup directory of this host at or under /sys/fs/cgroup: any other directory (a typo such as
     * /sys/fs/cgroupx) holds no processes, and every cpuset would silently be skipped.
     */
    private static String cgroupRoot(YamlNode n, Mode mode, Input in) {
        ProfileWalk w = in.walk();
        String root = w.scalar(n, "cgroups.root", "a directory under /sys/fs/cgroup");
        if (root == null) {
            return null;
        }
        if (root.length() > 1 && root.endsWith("/")) {
            root = root.substring(0, root.length() - 1);
        }
        String fix = "; write e.g. /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset (v1)";
        if (!(root.equals("/sys/fs/cgroup") || root.startsWith("/sys/fs/cgroup/")) || root.contains("/..")
                || root.contains("\0")) {
            w.problem(n, "cgroups.root", "'" + root + "' is not under /sys/fs/cgroup" + fix);
            return null;
        }
        for (String name : root.split("/")) {
            if (libvirtCgroup(name)) {
                w.problem(n, "cgroups.root", "'" + root + "' is " + (root.endsWith("/" + name) ? "" : "under ") + name
                        + ", libvirt's cgroup for VMs: confined to the host CPUs, their vCPUs could not be pinned to their"
                        + " own" + fix + ", or leave the key out");
                return null;
            }
        }
        if (mode != Mode.NONE && !in.host().isCgroup(root)) {
            w.problem(n, "cgroups.root", "'" + root + "' is not a cgroup on this host (it has no cgroup.procs)" + fix
                    + ", a cgroup under them, or leave the key out");
            return null;
        }
        return root;
    }

    /**
     * A cgroup libvirt keeps VMs in, by libvirt's names for them: a partition (machine.slice and machine-*.slice with
     * systemd; machine and *.partition without) or a VM's own (machine-*.scope; *.libvirt-qemu, *.libvirt-lxc).
     * It keeps every CPU: libvirt and the hook pin QEMU's threads inside it to the VM's CPUs.
     */
    static boolean libvirtCgroup(String name) {
        return name.equals(MACHINE_SLICE) || name.equals("machine") || name.endsWith(".partition")
                || (name.startsWith("machine-") && (name.endsWith(".slice") || name.endsWith(".scope")))
                || name.endsWith(".libvirt-qemu") || name.endsWith(".libvirt-lxc");
    }

    // ---- the host ------------------------------------------------------------------------

    static final String V2_MOUNT = "/sys/fs/cgroup";
    static final String V1_CPUSET = "/sys/fs/cgroup/cpuset";

    /**
     * The cgroups to confine host processes with. A profile that finds none while the host has a cpuset
     * hierarchy (cgroups.mode or cgroups.root pointing elsewhere) is refused with the fix rather than planned
     * as unconfined: the VM would start with every host process still free to run on its CPUs.
     */
    @Override
    public Confinement read(HostFs host, ReadScope scope) {
        Settings settings = scope.settings(this);
        Confinement found = find(host, settings);
        if (found instanceof Unconfined none && settings.mode() != Mode.NONE) {
            String hierarchy = v2HasCpuset(host) ? "cgroup v2 with the cpuset controller at " + V2_MOUNT
                    : host.exists(V1_CPUSET + "/cpuset.cpus") && host.exists(V1_CPUSET + "/tasks")
                            ? "a cgroup v1 cpuset hierarchy at " + V1_CPUSET : null;
            if (hierarchy != null) {
                throw OrchestratorException.data("cgroups: " + none.why() + ", but this host has " + hierarchy
                        + ", and without it every host process stays free to run on the VM's CPUs; leave cgroups.mode"
                        + " and cgroups.root out of the profile (auto finds it), or write cgroups.mode: none to confine"
                        + " nothing");
            }
        }
        return found;
    }

    /** The backend {@code settings} choose on this host ({@link Mode#NONE} when none), without reading it. */
    public static Mode backend(HostFs host, Settings settings) {
        return choose(host, settings).backend();
    }

    /** A backend and the cgroup it confines from; or NONE and why. */
    private record Choice(Mode backend, String root, String why) {
        static Choice none(String why) {
            return new Choice(Mode.NONE, null, why);
        }
    }

    private static Confinement find(HostFs host, Settings settings) {
        Choice c = choose(host, settings);
        return switch (c.backend()) {
            case SYSTEMD -> SystemdSlices.read(host, host.systemd().orElseThrow());
            case V2 -> CgroupV2.read(host, c.root());
            case V1 -> CgroupV1.read(host, c.root());
            default -> new Unconfined(c.why());
        };
    }

    private static Choice choose(HostFs host, Settings settings) {
        Mode mode = settings.mode();
        String root = settings.root();
        if (mode == Mode.NONE) {
            return Choice.none("cgroups.mode is none: processes are not confined");
        }
        boolean v2Here = host.exists((root == null ? V2_MOUNT : root) + "/cgroup.controllers");
        Optional<Systemd> systemd = host.systemd();
        if (mode == Mode.SYSTEMD || (mode == Mode.AUTO && root == null && v2Here && v2HasCpuset(host) && systemd.isPresent())) {
            if (systemd.isEmpty()) {
                return Choice.none("cgroups.mode is systemd, but systemd does not run here (no /run/systemd/system)");
            }
            if (!host.exists(V2_MOUNT + "/cgroup.controllers")) {
                return Choice.none("cgroups.mode is systemd, but " + V2_MOUNT
                        + " is not cgroup v2 (systemd confines CPUs on v2 only)");
            }
            return new Choice(Mode.SYSTEMD, V2_MOUNT, null);
        }
        boolean v1Here = host.exists((root == null ? V1_CPUSET : root) + "/cpuset.cpus")
                && host.exists((root == null ? V1_CPUSET : root) + "/tasks");
        if (mode == Mode.V2 || (mode == Mode.AUTO && v2Here && (root != null || v2HasCpuset(host)))) {
            String r = root == null ? V2_MOUNT : root;
            if (!host.exists(r + "/cgroup.controllers")) {
                return Choice.none(r + " is not a cgroup v2 directory (no cgroup.controllers)");
            }
            return new Choice(Mode.V2, r, null);
        }
        if (mode == Mode.V1 || (mode == Mode.AUTO && v1Here)) {
            String r = root == null ? V1_CPUSET : root;
            if (!host.exists(r + "/cpuset.cpus") || !host.exists(r + "/tasks")) {
                return Choice.none(r + " is not a cgroup v1 cpuset directory (no cpuset.cpus and tasks)");
            }
            return new Choice(Mode.V1, r, null);
        }
        return Choice.none("no cgroup v2 with the cpuset controller and no cgroup v1 cpuset hierarchy found");
    }

    private static boolean v2HasCpuset(HostFs host) {
        return KernelText.words(host.read(V2_MOUNT + "/cgroup.controllers").orElse("")).contains("cpuset");
    }

    /** Each child cgroup of {@code dir} and its cpuset.cpus (absent until the cpuset controller is enabled). */
    static Map<String, Optional<String>> childCgroups(HostFs host, String dir) {
        Map<String, Optional<String>> children = new TreeMap<>();
        for (String name : host.list(dir)) {
            String child = dir + "/" + name;
            // files out first: exists() of a path under a file costs an exception inside NIO
            if (host.isDirectory(child) && host.exists(child + "/cgroup.procs")) {
                children.put(name, host.read(child + "/cpuset.cpus").map(String::strip));
            }
        }
        return children;
    }

    // ---- the plan ------------------------------------------------------------------------

    @Override
    public void plan(Confinement found, Planning plan) {
        Settings settings = plan.first().settings(this);
        if (found instanceof Unconfined none) {
            plan.warn("processes are not confined to the host CPUs: " + none.why());
        } else if (found instanceof SystemdSlices.Units units) {
            SystemdSlices.plan(units, plan);
        } else if (found instanceof CgroupV2.Tree tree) {
            CgroupV2.plan(tree, settings, plan);
        } else if (found instanceof CgroupV1.Tree tree) {
            CgroupV1.plan(tree, settings, plan);
        }
    }
}
