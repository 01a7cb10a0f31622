package org.vfioorchestrator.plan;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.ProcInterrupts;
import org.vfioorchestrator.host.ProcStat;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.HostSnapshot.CgroupVersion;
import org.vfioorchestrator.plan.HostSnapshot.Cgroups;
import org.vfioorchestrator.plan.HostSnapshot.CpuPower;
import org.vfioorchestrator.plan.HostSnapshot.IdleState;
import org.vfioorchestrator.plan.HostSnapshot.Irq;
import org.vfioorchestrator.plan.HostSnapshot.Irqbalance;
import org.vfioorchestrator.plan.HostSnapshot.Proc;
import org.vfioorchestrator.plan.HostSnapshot.RunningVm;
import org.vfioorchestrator.plan.HostSnapshot.SystemdUnit;
import org.vfioorchestrator.profile.Profile.CgroupMode;
import org.vfioorchestrator.profile.Profile.CgroupPolicy;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.topology.Topology;

/** Reads a {@link HostSnapshot}: the only place the planner's inputs come from. */
public final class HostSnapshotReader {
    static final String WORKQUEUES = "/sys/devices/virtual/workqueue";
    static final String V2_MOUNT = "/sys/fs/cgroup";
    static final String V1_CPUSET = "/sys/fs/cgroup/cpuset";

    private final HostFs host;

    public HostSnapshotReader(HostFs host) {
        this.host = host;
    }

    /**
     * What a plan reads beyond the parts every plan needs. {@code powerCpus}: the CPUs whose governor
     * and PM QoS limit are read (the VMs' CPUs; on a 1024-CPU host the others are 16,000 reads).
     * {@code idleStateCpus}: those whose idle states are read too (only where a profile disables idle
     * states; the PM QoS method never looks at them). {@code hostCpus}: an IRQ already on exactly these,
     * and of no pass-through device, is one the plan leaves where it is, so whether the kernel manages
     * it is not read (its debugfs file: a read per IRQ, on every call after the first of a VM's start);
     * its {@code managed} says false.
     */
    public record Scope(CpuSet powerCpus, CpuSet idleStateCpus, CpuSet hostCpus) {
        /** Everything, the power settings of every online CPU included ({@code capture} records what this reads). */
        public static Scope everything(Topology topology) {
            return new Scope(topology.online(), topology.online(), CpuSet.empty());
        }
    }

    /** Reads everything ({@link Scope#everything}). */
    public HostSnapshot read(Topology topology, Collection<String> vms, CgroupPolicy cgroups) {
        return read(topology, vms, cgroups, Scope.everything(topology));
    }

    /** Reads what a plan needs: the whole-host parts, and of the per-CPU and per-IRQ parts what {@code scope} names. */
    public HostSnapshot read(Topology topology, Collection<String> vms, CgroupPolicy cgroups, Scope scope) {
        Map<String, RunningVm> running = new TreeMap<>();
        for (String vm : vms) {
            Optional<QemuProcess> q = QemuProcess.find(host, vm);
            if (q.isPresent()) {
                running.put(vm, new RunningVm(q.get(), affinities(q.get())));
            }
        }
        return new HostSnapshot(topology, irqs(scope.hostCpus()), host.read("/proc/irq/default_smp_affinity").orElse("").strip(),
                workqueueMasks(), power(topology.online().intersection(scope.powerCpus()), scope.idleStateCpus()),
                cgroups(cgroups), running, irqbalance());
    }

    private Map<Integer, CpuSet> affinities(QemuProcess q) {
        Map<Integer, CpuSet> out = new TreeMap<>();
        for (QemuThread t : q.threads()) {
            try {
                out.put(t.tid(), host.threadAffinity(t.tid()));
            } catch (HostIoException e) {
                // the thread exited between listing and reading: nothing to pin
            }
        }
        return out;
    }

    // ---- IRQs ----------------------------------------------------------------------------

    private List<Irq> irqs(CpuSet hostCpus) {
        Map<Integer, String[]> described = describeInterrupts();
        List<Integer> numbers = new ArrayList<>();
        for (String name : host.list("/proc/irq")) {
            if (KernelText.isNumber(name)) {
                numbers.add(Integer.parseInt(name));
            }
        }
        numbers.sort(null);
        List<Irq> out = new ArrayList<>();
        for (int n : numbers) {
            Optional<String> list = host.read("/proc/irq/" + n + "/smp_affinity_list");
            if (list.isEmpty()) {
                continue; // freed while we looked
            }
            CpuSet affinity;
            try {
                affinity = CpuSet.parseList(list.get());
            } catch (CpuSetFormatException e) {
                throw new HostIoException("/proc/irq/" + n + "/smp_affinity_list", org.vfioorchestrator.host.Errno.OTHER,
                        "unexpected content " + e.getMessage());
            }
            String[] d = described.getOrDefault(n, new String[] {"", ""});
            boolean settled = affinity.equals(hostCpus) && !Irq.isPassthrough(d[1]);
            boolean managed = !settled
                    && host.read("/sys/kernel/debug/irq/irqs/" + n).orElse("").contains("IRQD_AFFINITY_MANAGED");
            out.add(new Irq(n, d[1], d[0], list.get().strip(), affinity, managed));
        }
        return out;
    }

    /** IRQ number -> {chip, actions} from /proc/interrupts. */
    private Map<Integer, String[]> describeInterrupts() {
        Map<Integer, String[]> out = new TreeMap<>();
        Optional<InputStream> in = host.readStream("/proc/interrupts");
        if (in.isEmpty()) {
            return out;
        }
        try (InputStream stream = in.get()) {
            for (ProcInterrupts.Row row : ProcInterrupts.read(stream, false).rows()) {
                if (row.irq() >= 0) {
                    out.put(row.irq(), new String[] {row.chip(), row.actions()});
                }
            }
            return out;
        } catch (IOException e) {
            throw new HostIoException("/proc/interrupts", org.vfioorchestrator.host.Errno.fromMessage(e.getMessage()),
                    e.getMessage());
        }
    }

    // ---- workqueues, power ---------------------------------------------------------------

    private Map<String, String> workqueueMasks() {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> paths = new ArrayList<>(List.of(WORKQUEUES + "/cpumask"));
        for (String wq : host.list(WORKQUEUES)) {
            paths.add(WORKQUEUES + "/" + wq + "/cpumask");
        }
        for (String path : paths) {
            String mask = readStripped(path);
            if (mask != null) {
                out.put(path, mask);
            }
        }
        return out;
    }

    /** A kernel file's value without its line feed; null when the file is not there. */
    private String readStripped(String path) {
        Optional<String> v = host.read(path);
        return v.isPresent() ? v.get().strip() : null;
    }

    /** Idle states in the kernel's order, state0 first. */
    private static final Comparator<IdleState> BY_INDEX = Comparator.comparingInt(IdleState::index);

    private Map<Integer, CpuPower> power(CpuSet cpus, CpuSet idleStateCpus) {
        Map<Integer, CpuPower> out = new TreeMap<>();
        for (int cpu : cpus.toList()) {
            String base = "/sys/devices/system/cpu/cpu" + cpu;
            String governor = readStripped(base + "/cpufreq/scaling_governor");
            String pmQos = readStripped(base + "/power/pm_qos_resume_latency_us");
            List<IdleState> states = new ArrayList<>();
            if (idleStateCpus.contains(cpu)) {
                for (String s : host.list(base + "/cpuidle")) {
                    if (!s.startsWith("state")) {
                        continue;
                    }
                    String dir = base + "/cpuidle/" + s;
                    int latency = parseIntOr(host.read(dir + "/latency").orElse(""), 0);
                    states.add(new IdleState(Integer.parseInt(s.substring(5)), host.read(dir + "/name").orElse("").strip(),
                            latency, host.read(dir + "/disable").orElse("").strip()));
                }
                states.sort(BY_INDEX);
            }
            out.put(cpu, new CpuPower(governor, pmQos, states));
        }
        return out;
    }

    private static int parseIntOr(String s, int fallback) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    // ---- cgroups -------------------------------------------------------------------------

    /**
     * The cgroups to confine host processes with. A profile that finds none while the host has a cpuset
     * hierarchy (cgroups.mode or cgroups.root pointing elsewhere) is refused with the fix rather than planned
     * as unconfined: the VM would start with every host process still free to run on its CPUs.
     */
    private Cgroups cgroups(CgroupPolicy policy) {
        Cgroups found = findCgroups(policy);
        if (found.version() == CgroupVersion.NONE && policy.mode() != CgroupMode.NONE) {
            String hierarchy = v2HasCpuset() ? "cgroup v2 with the cpuset controller at " + V2_MOUNT
                    : host.exists(V1_CPUSET + "/cpuset.cpus") && host.exists(V1_CPUSET + "/tasks")
                            ? "a cgroup v1 cpuset hierarchy at " + V1_CPUSET : null;
            if (hierarchy != null) {
                throw OrchestratorException.data("cgroups: " + found.why() + ", but this host has " + hierarchy
                        + ", and without it every host process stays free to run on the VM's CPUs; leave cgroups.mode"
                        + " and cgroups.root out of the profile (auto finds it), or write cgroups.mode: none to confine"
                        + " nothing");
            }
        }
        return found;
    }

    private Cgroups findCgroups(CgroupPolicy policy) {
        CgroupMode mode = policy.mode();
        String root = policy.root();
        if (mode == CgroupMode.NONE) {
            return none(root, "cgroups.mode is none: processes are not confined");
        }
        boolean v2Here = host.exists((root == null ? V2_MOUNT : root) + "/cgroup.controllers");
        Optional<Systemd> systemd = host.systemd();
        if (mode == CgroupMode.SYSTEMD || (mode == CgroupMode.AUTO && root == null && v2Here && v2HasCpuset() && systemd.isPresent())) {
            if (systemd.isEmpty()) {
                return none(V2_MOUNT, "cgroups.mode is systemd, but systemd does not run here (no /run/systemd/system)");
            }
            if (!host.exists(V2_MOUNT + "/cgroup.controllers")) {
                return none(V2_MOUNT, "cgroups.mode is systemd, but " + V2_MOUNT + " is not cgroup v2 (systemd confines CPUs on v2 only)");
            }
            return systemd(systemd.get());
        }
        boolean v1Here = host.exists((root == null ? V1_CPUSET : root) + "/cpuset.cpus")
                && host.exists((root == null ? V1_CPUSET : root) + "/tasks");
        if (mode == CgroupMode.V2 || (mode == CgroupMode.AUTO && v2Here && (root != null || v2HasCpuset()))) {
            String r = root == null ? V2_MOUNT : root;
            if (!host.exists(r + "/cgroup.controllers")) {
                return none(r, r + " is not a cgroup v2 directory (no cgroup.controllers)");
            }
            return v2(r);
        }
        if (mode == CgroupMode.V1 || (mode == CgroupMode.AUTO && v1Here)) {
            String r = root == null ? V1_CPUSET : root;
            if (!host.exists(r + "/cpuset.cpus") || !host.exists(r + "/tasks")) {
                return none(r, r + " is not a cgroup v1 cpuset directory (no cpuset.cpus and tasks)");
            }
            return v1(r);
        }
        return none(root, "no cgroup v2 with the cpuset controller and no cgroup v1 cpuset hierarchy found");
    }

    private boolean v2HasCpuset() {
        return KernelText.words(host.read(V2_MOUNT + "/cgroup.controllers").orElse("")).contains("cpuset");
    }

    private Cgroups none(String root, String why) {
        return new Cgroups(CgroupVersion.NONE, root, Map.of(), Map.of(), Map.of(), Map.of(), "", "", "", List.of(), Map.of(), why);
    }

    /** The units at the top of systemd's tree, each with its AllowedCPUs and the runtime drop-in holding it. */
    private Cgroups systemd(Systemd systemd) {
        Map<String, SystemdUnit> units = new TreeMap<>();
        for (String name : childCgroups(V2_MOUNT).keySet()) {
            if ((name.endsWith(".slice") || name.endsWith(".scope")) && !name.equals(Planner.MACHINE_SLICE)) {
                units.put(name, new SystemdUnit(systemd.property(name, Planner.ALLOWED_CPUS),
                        host.read(Systemd.dropIn(name, Planner.ALLOWED_CPUS))));
            }
        }
        return new Cgroups(CgroupVersion.SYSTEMD, V2_MOUNT, Map.of(), Map.of(), Map.of(), Map.of(), "", "", "", List.of(), units,
                "cgroup v2 through systemd");
    }

    private Cgroups v2(String root) {
        // +cpuset must be in the subtree_control of every cgroup from the top down to the root.
        List<String> chain = new ArrayList<>();
        String dir = root;
        while (true) {
            chain.add(0, dir);
            String parent = dir.substring(0, dir.lastIndexOf('/'));
            if (parent.isEmpty() || !host.exists(parent + "/cgroup.controllers")) {
                break;
            }
            dir = parent;
        }
        Map<String, String> subtree = new LinkedHashMap<>();
        for (String d : chain) {
            subtree.put(d, host.read(d + "/cgroup.subtree_control").orElse("").strip());
        }
        Map<String, Optional<String>> children = childCgroups(root);
        Map<String, Map<String, Optional<String>>> subgroups = new TreeMap<>();
        Map<String, String> childControllers = new TreeMap<>();
        for (String name : children.keySet()) {
            subgroups.put(name, childCgroups(root + "/" + name));
            childControllers.put(name, host.read(root + "/" + name + "/cgroup.subtree_control").orElse("").strip());
        }
        return new Cgroups(CgroupVersion.V2, root, subtree, children, subgroups, childControllers, "", "", "", List.of(), Map.of(),
                "cgroup v2 at " + root);
    }

    private Map<String, Optional<String>> childCgroups(String dir) {
        Map<String, Optional<String>> children = new TreeMap<>();
        for (String name : host.list(dir)) {
            String child = dir + "/" + name;
            // files out first: exists() of a path under a file costs an exception inside NIO
            if (host.isDirectory(child) && host.exists(child + "/cgroup.procs")) {
                children.put(name, Optional.ofNullable(readStripped(child + "/cpuset.cpus")));
            }
        }
        return children;
    }

    private Cgroups v1(String root) {
        List<Proc> procs = new ArrayList<>();
        for (String line : host.read(root + "/cgroup.procs").orElse("").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            int pid = Integer.parseInt(line.strip());
            Optional<String> stat = host.read("/proc/" + pid + "/stat");
            if (stat.isEmpty()) {
                continue; // exited while we looked
            }
            ProcStat ps = ProcStat.parse(stat.get());
            procs.add(new Proc(pid, ps.comm(), ps.flags()));
        }
        return new Cgroups(CgroupVersion.V1, root, Map.of(), childCgroups(root), Map.of(), Map.of(), host.read(root + "/cpuset.cpus").orElse("").strip(),
                host.read(root + "/cpuset.mems").orElse("").strip(),
                host.read(root + "/" + Planner.V1_HOST_CPUSET + "/cpuset.mems").orElse("").strip(), procs, Map.of(),
                "cgroup v1 cpuset at " + root);
    }

    // ---- irqbalance ----------------------------------------------------------------------

    /** Where systemd keeps irqbalance.service's processes: cgroup v2, and v1's name=systemd hierarchy. */
    static final List<String> IRQBALANCE_UNIT_PROCS = List.of(
            "/sys/fs/cgroup/system.slice/irqbalance.service/cgroup.procs",
            "/sys/fs/cgroup/systemd/system.slice/irqbalance.service/cgroup.procs");

    /** Whether some /proc/PID/comm is irqbalance: its systemd unit's processes first, then every process. */
    private boolean irqbalanceRunning() {
        for (String procs : IRQBALANCE_UNIT_PROCS) {
            for (String pid : host.read(procs).orElse("").split("\n")) {
                String p = pid.strip();
                if (KernelText.isNumber(p) && isIrqbalance(p)) {
                    return true;
                }
            }
        }
        for (String pid : host.list("/proc")) {
            if (!pid.isEmpty() && Character.isDigit(pid.charAt(0)) && isIrqbalance(pid)) {
                return true;
            }
        }
        return false;
    }

    private boolean isIrqbalance(String pid) {
        return "irqbalance".equals(host.read("/proc/" + pid + "/comm").orElse("").strip());
    }

    private Irqbalance irqbalance() {
        boolean running = irqbalanceRunning();
        for (String file : List.of("/etc/default/irqbalance", "/etc/sysconfig/irqbalance")) {
            Optional<String> text = host.read(file);
            if (text.isPresent()) {
                return new Irqbalance(running, bannedCpus(text.get()), file);
            }
        }
        return new Irqbalance(running, CpuSet.empty(), "/etc/default/irqbalance");
    }

    static CpuSet bannedCpus(String config) {
        for (String line : config.split("\n")) {
            String l = line.strip();
            if (l.startsWith("IRQBALANCE_BANNED_CPULIST=")) {
                try {
                    return CpuSet.parseList(l.substring(l.indexOf('=') + 1).replace("\"", "").replace("'", ""));
                } catch (CpuSetFormatException e) {
                    return CpuSet.empty();
                }
            }
            if (l.startsWith("IRQBALANCE_BANNED_CPUS=")) {
                try {
                    return CpuSet.parseMask(l.substring(l.indexOf('=') + 1).replace("\"", "").replace("'", ""));
                } catch (CpuSetFormatException e) {
                    return CpuSet.empty();
                }
            }
        }
        return CpuSet.empty();
    }
}
