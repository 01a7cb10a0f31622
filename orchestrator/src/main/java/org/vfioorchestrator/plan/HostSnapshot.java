package org.vfioorchestrator.plan;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.ProcStat;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.topology.Topology;

/**
 * Everything the planner looks at, read once from the host. The planner is a
 * pure function of this, the profiles and the domain XML.
 */
public record HostSnapshot(
        Topology topology,
        List<Irq> irqs,
        String defaultIrqAffinity,
        Map<String, String> workqueueMasks,
        Map<Integer, CpuPower> power,
        Cgroups cgroups,
        Map<String, RunningVm> running,
        Irqbalance irqbalance) {

    /**
     * One IRQ as /proc shows it.
     *
     * @param actions the handler names from /proc/interrupts (e.g. {@code nvme0q3}, {@code vfio-msix[0](0000:0b:00.0)})
     * @param managed the kernel manages its affinity (debugfs says IRQD_AFFINITY_MANAGED): cannot be moved.
     *                Not read, and false, for an IRQ already on the host CPUs of the plan it was read for
     *                (see {@link HostSnapshotReader})
     */
    public record Irq(int number, String actions, String chip, String affinityList, CpuSet affinity, boolean managed) {
        /** An IRQ of a device passed through to a VM. */
        public boolean passthrough() {
            return isPassthrough(actions);
        }

        /** vfio registers a pass-through device's handlers as vfio-msi/-msix/-intx. */
        static boolean isPassthrough(String actions) {
            return actions.contains("vfio-");
        }

        public String label() {
            return actions.isEmpty() ? "IRQ " + number : "IRQ " + number + " (" + actions + ")";
        }
    }

    /** A CPU's frequency and idle controls; absent parts are null or empty (idle states also where not read). */
    public record CpuPower(String governor, String pmQosResumeLatency, List<IdleState> idleStates) {
    }

    public record IdleState(int index, String name, int latencyUs, String disable) {
    }

    /** cgroupfs v1 or v2 written directly, v2 through systemd, or none. */
    public enum CgroupVersion { V1, V2, SYSTEMD, NONE }

    /**
     * A systemd unit at the top of the cgroup tree (init.scope, system.slice, user.slice, ...).
     *
     * @param allowedCpus its AllowedCPUs as systemd shows it ('' for every CPU)
     * @param dropIn      the runtime drop-in that holds it, if there is one now (its exact text)
     */
    public record SystemdUnit(String allowedCpus, Optional<String> dropIn) {
    }

    /**
     * The cgroup subtree treated as "the host".
     *
     * @param root          the cgroup directory whose tasks are confined
     * @param subtreeControl v2: cgroup.subtree_control of the hierarchy's top down to the root, top first
     * @param children      each child cgroup's name and cpuset.cpus (absent until cpuset is enabled)
     * @param subgroups     v2: each child's own children (e.g. system.slice's services) and their cpuset.cpus
     * @param childControllers v2: each child's cgroup.subtree_control
     * @param rootCpus      v1: the root cpuset's cpus and mems
     * @param hostCpusetMems v1: cpuset.mems of our host cpuset if it exists already (e.g. another VM made it)
     * @param processes     v1: the processes directly in the root
     * @param units         systemd: the units at the top of the tree, but machine.slice (libvirt's VMs)
     * @param why           how the mode was chosen, or why there is none
     */
    public record Cgroups(CgroupVersion version, String root, Map<String, String> subtreeControl, Map<String, Optional<String>> children,
            Map<String, Map<String, Optional<String>>> subgroups, Map<String, String> childControllers,
            String rootCpus, String rootMems, String hostCpusetMems, List<Proc> processes, Map<String, SystemdUnit> units,
            String why) {
    }

    /** A process as /proc/PID shows it; {@code flags} is field 9 of stat. */
    public record Proc(int pid, String comm, long flags) {
        /** PF_NO_SETAFFINITY: per-CPU kernel threads, which no cpuset can move. */
        public boolean perCpuKernelThread() {
            return (flags & ProcStat.PF_NO_SETAFFINITY) != 0;
        }
    }

    /** A VM whose QEMU runs, with where each of its threads may run now. */
    public record RunningVm(QemuProcess qemu, Map<Integer, CpuSet> affinity) {
    }

    /** irqbalance undoes manual IRQ affinity unless the VM's CPUs are banned for it. */
    public record Irqbalance(boolean running, CpuSet banned, String configFile) {
    }
}
