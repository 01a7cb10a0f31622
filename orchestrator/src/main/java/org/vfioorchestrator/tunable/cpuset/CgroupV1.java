package org.vfioorchestrator.tunable.cpuset;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.ProcStat;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.tunable.Planning;

/**
 * The cpuset backend on cgroup v1: a cpuset of the host CPUs ({@value #HOST_CPUSET}) under the root, and every
 * process of the root moved into it but per-CPU kernel threads (the kernel refuses) and the kept daemons.
 */
final class CgroupV1 {
    /** The v1 cpuset the host's processes are moved into. */
    static final String HOST_CPUSET = "vfio-host";

    private CgroupV1() {
    }

    /**
     * The v1 cpuset hierarchy treated as "the host".
     *
     * @param root           the cpuset whose processes are confined
     * @param children       each child cpuset's name and cpuset.cpus
     * @param rootCpus       the root's cpus and mems
     * @param hostCpusetMems cpuset.mems of our host cpuset if it exists already (e.g. another VM made it)
     * @param processes      the processes directly in the root
     */
    record Tree(String root, Map<String, Optional<String>> children, String rootCpus, String rootMems, String hostCpusetMems,
            List<Proc> processes) implements Cpusets.Confinement {
    }

    /** A process as /proc/PID shows it; {@code flags} is field 9 of stat. */
    record Proc(int pid, String comm, long flags) {
        /** PF_NO_SETAFFINITY: per-CPU kernel threads, which no cpuset can move. */
        boolean perCpuKernelThread() {
            return (flags & ProcStat.PF_NO_SETAFFINITY) != 0;
        }
    }

    static Tree read(HostFs host, String root) {
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
        return new Tree(root, Cpusets.childCgroups(host, root), host.read(root + "/cpuset.cpus").orElse("").strip(),
                host.read(root + "/cpuset.mems").orElse("").strip(),
                host.read(root + "/" + HOST_CPUSET + "/cpuset.mems").orElse("").strip(), procs);
    }

    static void plan(Tree cg, Cpusets.Settings settings, Planning plan) {
        String hostDir = cg.root() + "/" + HOST_CPUSET;
        boolean exists = cg.children().containsKey(HOST_CPUSET);
        plan.controls(hostDir);
        plan.controls(hostDir + "/cgroup.procs");
        if (!exists) {
            plan.change(new Change.MakeCgroup(Cpusets.KIND, hostDir, "a cpuset for the host's processes"));
        }
        plan.write(Cpusets.KIND, hostDir + "/cpuset.mems", exists ? cg.hostCpusetMems() : null, cg.rootMems(),
                ValueFormat.CPU_LIST, "a cpuset needs memory nodes before it takes tasks");
        plan.write(Cpusets.KIND, hostDir + "/cpuset.cpus", exists ? cg.children().get(HOST_CPUSET).orElse("") : null,
                plan.hostCpus().toString(), ValueFormat.CPU_LIST, Cpusets.WHY);
        List<Integer> movable = new ArrayList<>();
        for (Proc proc : cg.processes()) {
            if (proc.perCpuKernelThread()) {
                plan.unmovable(Cpusets.KIND, "/proc/" + proc.pid(), proc.comm(), "per-CPU kernel thread: the kernel does not let it move");
            } else if (settings.keep().contains(proc.comm()) || proc.comm().startsWith("qemu-system")) {
                plan.unmovable(Cpusets.KIND, "/proc/" + proc.pid(), proc.comm(), Cpusets.KEPT_WHY);
            } else {
                movable.add(proc.pid());
            }
        }
        if (!movable.isEmpty()) {
            plan.change(new Change.MoveProcesses(Cpusets.KIND, cg.root(), hostDir, List.copyOf(movable), Cpusets.WHY));
        }
    }
}
