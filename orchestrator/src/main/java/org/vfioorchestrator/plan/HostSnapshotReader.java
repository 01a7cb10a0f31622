package org.vfioorchestrator.plan;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.HostSnapshot.CgroupVersion;
import org.vfioorchestrator.plan.HostSnapshot.Cgroups;
import org.vfioorchestrator.plan.HostSnapshot.CpuPower;
import org.vfioorchestrator.plan.HostSnapshot.IdleState;
import org.vfioorchestrator.plan.HostSnapshot.Irq;
import org.vfioorchestrator.plan.HostSnapshot.Irqbalance;
import org.vfioorchestrator.plan.HostSnapshot.Proc;
import org.vfioorchestrator.plan.HostSnapshot.RunningVm;
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

    public HostSnapshot read(Topology topology, Collection<String> vms, CgroupPolicy cgroups) {
        Map<String, RunningVm> running = new TreeMap<>();
        for (String vm : vms) {
            QemuProcess.find(host, vm).ifPresent(q -> running.put(vm, new RunningVm(q, affinities(q))));
        }
        return new HostSnapshot(topology, irqs(), host.read("/proc/irq/default_smp_affinity").orElse("").strip(),
                workqueueMasks(), power(topology), cgroups(cgroups), running, irqbalance());
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

    private List<Irq> irqs() {
        Map<Integer, String[]> described = describeFromInterrupts(host.read("/proc/interrupts").orElse(""));
        List<Integer> numbers = new ArrayList<>();
        for (String name : host.list("/proc/irq")) {
            if (name.chars().allMatch(Character::isDigit)) {
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
            boolean managed = host.read("/sys/kernel/debug/irq/irqs/" + n).orElse("").contains("IRQD_AFFINITY_MANAGED");
            String[] d = described.getOrDefault(n, new String[] {"", ""});
            out.add(new Irq(n, d[1], d[0], list.get().strip(), affinity, managed));
        }
        return out;
    }

    /** IRQ number -> {chip, actions} from /proc/interrupts rows: "N: counts... chip hwirq actions". */
    static Map<Integer, String[]> describeFromInterrupts(String text) {
        Map<Integer, String[]> out = new TreeMap<>();
        String[] lines = text.split("\n");
        if (lines.length == 0) {
            return out;
        }
        int cpus = lines[0].trim().isEmpty() ? 0 : lines[0].trim().split("\\s+").length;
        for (int i = 1; i < lines.length; i++) {
            String[] tok = lines[i].trim().split("\\s+");
            if (tok.length == 0 || !tok[0].endsWith(":")) {
                continue;
            }
            String num = tok[0].substring(0, tok[0].length() - 1);
            if (num.isEmpty() || !num.chars().allMatch(Character::isDigit)) {
                continue;
            }
            int rest = 1 + cpus;
            String chip = rest < tok.length ? tok[rest] : "";
            String actions = rest + 2 < tok.length ? String.join(" ", List.of(tok).subList(rest + 2, tok.length)) : "";
            out.put(Integer.parseInt(num), new String[] {chip, actions});
        }
        return out;
    }

    // ---- workqueues, power ---------------------------------------------------------------

    private Map<String, String> workqueueMasks() {
        Map<String, String> out = new LinkedHashMap<>();
        host.read(WORKQUEUES + "/cpumask").ifPresent(v -> out.put(WORKQUEUES + "/cpumask", v.strip()));
        for (String wq : host.list(WORKQUEUES)) {
            String path = WORKQUEUES + "/" + wq + "/cpumask";
            host.read(path).ifPresent(v -> out.put(path, v.strip()));
        }
        return out;
    }

    private Map<Integer, CpuPower> power(Topology topology) {
        Map<Integer, CpuPower> out = new TreeMap<>();
        for (int cpu : topology.online().toList()) {
            String base = "/sys/devices/system/cpu/cpu" + cpu;
            String governor = host.read(base + "/cpufreq/scaling_governor").map(String::strip).orElse(null);
            List<String> governors = List.of(host.read(base + "/cpufreq/scaling_available_governors").orElse("")
                    .strip().split("\\s+")).stream().filter(s -> !s.isEmpty()).toList();
            String pmQos = host.read(base + "/power/pm_qos_resume_latency_us").map(String::strip).orElse(null);
            List<IdleState> states = new ArrayList<>();
            for (String s : host.list(base + "/cpuidle")) {
                if (!s.startsWith("state")) {
                    continue;
                }
                String dir = base + "/cpuidle/" + s;
                int latency = parseIntOr(host.read(dir + "/latency").orElse(""), 0);
                states.add(new IdleState(Integer.parseInt(s.substring(5)), host.read(dir + "/name").orElse("").strip(),
                        latency, host.read(dir + "/disable").orElse("").strip()));
            }
            states.sort((a, b) -> Integer.compare(a.index(), b.index()));
            out.put(cpu, new CpuPower(governor, governors, pmQos, states));
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

    private Cgroups cgroups(CgroupPolicy policy) {
        CgroupMode mode = policy.mode();
        String root = policy.root();
        if (mode == CgroupMode.NONE) {
            return none(root, "cgroups.mode is none: processes are not confined");
        }
        boolean v2Here = host.exists((root == null ? V2_MOUNT : root) + "/cgroup.controllers");
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
        return List.of(host.read(V2_MOUNT + "/cgroup.controllers").orElse("").strip().split("\\s+")).contains("cpuset");
    }

    private Cgroups none(String root, String why) {
        return new Cgroups(CgroupVersion.NONE, root, Map.of(), Map.of(), Map.of(), Map.of(), "", "", "", List.of(), why);
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
        return new Cgroups(CgroupVersion.V2, root, subtree, children, subgroups, childControllers, "", "", "", List.of(),
                "cgroup v2 at " + root);
    }

    private Map<String, Optional<String>> childCgroups(String dir) {
        Map<String, Optional<String>> children = new TreeMap<>();
        for (String name : host.list(dir)) {
            String child = dir + "/" + name;
            if (host.exists(child + "/cgroup.procs") && host.isDirectory(child)) {
                children.put(name, host.read(child + "/cpuset.cpus").map(String::strip));
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
            String s = stat.get();
            String comm = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
            procs.add(new Proc(pid, comm, Long.parseLong(f[6])));
        }
        return new Cgroups(CgroupVersion.V1, root, Map.of(), childCgroups(root), Map.of(), Map.of(), host.read(root + "/cpuset.cpus").orElse("").strip(),
                host.read(root + "/cpuset.mems").orElse("").strip(),
                host.read(root + "/" + Planner.V1_HOST_CPUSET + "/cpuset.mems").orElse("").strip(), procs, "cgroup v1 cpuset at " + root);
    }

    // ---- irqbalance ----------------------------------------------------------------------

    private Irqbalance irqbalance() {
        boolean running = false;
        for (String pid : host.list("/proc")) {
            if (!pid.isEmpty() && Character.isDigit(pid.charAt(0))
                    && "irqbalance".equals(host.read("/proc/" + pid + "/comm").orElse("").strip())) {
                running = true;
                break;
            }
        }
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
