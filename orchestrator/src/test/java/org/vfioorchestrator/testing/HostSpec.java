package org.vfioorchestrator.testing;

import java.util.List;
import java.util.Objects;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What {@link HostTreeGenerator} builds: a synthetic Linux host described by a
 * few numbers. The same spec always gives the byte-identical tree.
 *
 * <p>CPU numbering is the one Linux uses on AMD and Intel desktops and servers:
 * with {@code threadsPerCore = 2} and C cores, CPUs n and n+C are siblings.
 * Cores are split evenly (in order) into packages, NUMA nodes and L3 groups.
 *
 * @param cpus              possible CPUs (= nr_cpu_ids, the width of every mask)
 * @param threadsPerCore    1 (no SMT) or 2
 * @param cpusPerL3         CPUs (threads) sharing one L3, e.g. 16 for an 8-core Zen 3 CCD with SMT
 * @param numaNodes         NUMA nodes, each an equal run of cores
 * @param packages          sockets, each an equal run of cores
 * @param offline           CPUs that are possible but offline (never CPU 0)
 * @param irqs              rows in /proc/interrupts; 0 picks the minimal realistic mix plus 20
 * @param nvmeQueues        I/O queues (managed IRQs) of nvme0; 0 = one per core
 * @param processes         ordinary user-space processes besides systemd, libvirtd, irqbalance and QEMU
 * @param threadsPerProcess threads of each ordinary process; 0 = what that program usually has
 * @param tasks             0, or the exact number of tasks (threads, kernel and user) on the host: ordinary
 *                          processes are added until it is reached, instead of {@code processes} of them
 * @param cgroup            which cgroup hierarchy is mounted
 * @param cpusetController  v2: whether the root's cgroup.subtree_control enables cpuset (systemd enables it
 *                          only while a unit has AllowedCPUs)
 * @param cpufreqDriver     scaling_driver, or null for no cpufreq at all
 * @param governors         scaling_available_governors (ignored by intel_pstate / amd-pstate-epp)
 * @param governor          scaling_governor
 * @param cpuidle           whether cpuN/cpuidle/state0..3 (POLL, C1, C2, C3) exist
 * @param irqbalance        whether irqbalance runs (and /etc/default/irqbalance exists)
 * @param irqbalanceBanned  IRQBALANCE_BANNED_CPULIST, or null when the file does not set it
 * @param vm                the running VM's name, or null for none
 * @param vcpus             its vCPU threads ({@code CPU n/KVM})
 * @param iothreads         its iothreads ({@code IO iothreadN})
 * @param isolcpus          isolcpus= on the kernel command line (empty: none)
 * @param nohzFull          nohz_full= on the command line, or null when absent (the file is then an empty line)
 * @param kernelRelease     uname -r; on cgroup v2 cgroups have cpuset.cpus.partition only from 5.0 (TreeHostFs
 *                          follows the version for the partition rules too)
 * @param seed              seeds every count and choice that is not fixed by the above
 */
public record HostSpec(
        int cpus,
        int threadsPerCore,
        int cpusPerL3,
        int numaNodes,
        int packages,
        CpuSet offline,
        int irqs,
        int nvmeQueues,
        int processes,
        int threadsPerProcess,
        int tasks,
        Cgroup cgroup,
        boolean cpusetController,
        String cpufreqDriver,
        List<String> governors,
        String governor,
        boolean cpuidle,
        boolean irqbalance,
        CpuSet irqbalanceBanned,
        String vm,
        int vcpus,
        int iothreads,
        CpuSet isolcpus,
        CpuSet nohzFull,
        String kernelRelease,
        long seed) {

    /**
     * The cgroup hierarchy: v1 (with systemd's name=systemd one beside it), v2 without systemd managing it
     * (written directly), or v2 with systemd as PID 1 ({@code /run/systemd/system}), the usual desktop.
     */
    public enum Cgroup {
        V1, V2, SYSTEMD;

        /** The unified hierarchy is mounted at /sys/fs/cgroup. */
        public boolean unified() {
            return this != V1;
        }
    }

    public static final List<String> ACPI_CPUFREQ_GOVERNORS =
            List.of("conservative", "ondemand", "userspace", "powersave", "performance", "schedutil");

    public HostSpec {
        Objects.requireNonNull(offline, "offline");
        Objects.requireNonNull(cgroup, "cgroup");
        Objects.requireNonNull(isolcpus, "isolcpus");
        Objects.requireNonNull(kernelRelease, "kernelRelease");
        governors = List.copyOf(governors);
        require(cpus >= 1 && cpus <= 4096, "cpus must be 1..4096");
        require(threadsPerCore == 1 || threadsPerCore == 2, "threadsPerCore must be 1 or 2");
        require(cpus % threadsPerCore == 0, "cpus must be a multiple of threadsPerCore");
        int cores = cpus / threadsPerCore;
        require(cpusPerL3 >= threadsPerCore && cpusPerL3 % threadsPerCore == 0,
                "cpusPerL3 must be a multiple of threadsPerCore");
        int coresPerL3 = cpusPerL3 / threadsPerCore;
        require(numaNodes >= 1 && cores % numaNodes == 0, "cores (" + cores + ") must split evenly into numaNodes");
        require(packages >= 1 && cores % packages == 0, "cores (" + cores + ") must split evenly into packages");
        require((cores / packages) % coresPerL3 == 0, "an L3 group must not span packages: cores per package ("
                + cores / packages + ") must be a multiple of cpusPerL3/threadsPerCore (" + coresPerL3 + ")");
        require(offline.isEmpty() || (!offline.contains(0) && offline.last() < cpus),
                "offline CPUs must be in 1.." + (cpus - 1));
        require(irqs >= 0 && nvmeQueues >= 0 && processes >= 0 && threadsPerProcess >= 0 && tasks >= 0,
                "counts must not be negative");
        require(cpufreqDriver == null || governors.contains(governor) || isSetPolicyDriver(cpufreqDriver),
                "governor " + governor + " is not among " + governors);
        require(irqbalanceBanned == null || irqbalance, "irqbalanceBanned needs irqbalance");
        require(vm == null || (vm.matches("[A-Za-z0-9_.+-]+") && vcpus >= 1 && iothreads >= 0),
                "vm needs a plain name and at least one vCPU");
        require(isolcpus.isEmpty() || isolcpus.last() < cpus, "isolcpus beyond the last CPU");
        require(nohzFull == null || nohzFull.isEmpty() || nohzFull.last() < cpus, "nohzFull beyond the last CPU");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Drivers that do their own scaling and only offer performance/powersave. */
    static boolean isSetPolicyDriver(String driver) {
        return driver.equals("intel_pstate") || driver.equals("amd-pstate-epp");
    }

    /**
     * The bundled example: AMD 16 cores / 32 threads (siblings n, n+16), two
     * CCDs, one node, acpi-cpufreq + acpi_idle, systemd with cgroup v2, irqbalance without a
     * banned list, no isolcpus, VM win11 running with 8 vCPUs and one iothread.
     */
    public static HostSpec gamingRig() {
        return builder()
                .cpus(32).threadsPerCore(2).cpusPerL3(16).numaNodes(1).packages(1)
                .irqs(60).processes(24)
                .cgroup(Cgroup.SYSTEMD).cpusetController(false)
                .cpufreq("acpi-cpufreq", ACPI_CPUFREQ_GOVERNORS, "schedutil")
                .cpuidle(true)
                .irqbalance(true, null)
                .vm("win11", 8, 1)
                .kernelRelease("6.9.7-arch1-1")
                .seed(20240628L)
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.cpus = cpus;
        b.threadsPerCore = threadsPerCore;
        b.cpusPerL3 = cpusPerL3;
        b.numaNodes = numaNodes;
        b.packages = packages;
        b.offline = offline;
        b.irqs = irqs;
        b.nvmeQueues = nvmeQueues;
        b.processes = processes;
        b.threadsPerProcess = threadsPerProcess;
        b.tasks = tasks;
        b.cgroup = cgroup;
        b.cpusetController = cpusetController;
        b.cpufreqDriver = cpufreqDriver;
        b.governors = governors;
        b.governor = governor;
        b.cpuidle = cpuidle;
        b.irqbalance = irqbalance;
        b.irqbalanceBanned = irqbalanceBanned;
        b.vm = vm;
        b.vcpus = vcpus;
        b.iothreads = iothreads;
        b.isolcpus = isolcpus;
        b.nohzFull = nohzFull;
        b.kernelRelease = kernelRelease;
        b.seed = seed;
        return b;
    }

    /** Defaults: 8 CPUs, SMT 2, one L3, one node, cgroup v2, acpi-cpufreq/schedutil, cpuidle, irqbalance, no VM. */
    public static final class Builder {
        private int cpus = 8;
        private int threadsPerCore = 2;
        private int cpusPerL3 = -1;
        private int numaNodes = 1;
        private int packages = 1;
        private CpuSet offline = CpuSet.empty();
        private int irqs;
        private int nvmeQueues;
        private int processes = 12;
        private int threadsPerProcess;
        private int tasks;
        private Cgroup cgroup = Cgroup.V2;
        private boolean cpusetController = true;
        private String cpufreqDriver = "acpi-cpufreq";
        private List<String> governors = ACPI_CPUFREQ_GOVERNORS;
        private String governor = "schedutil";
        private boolean cpuidle = true;
        private boolean irqbalance = true;
        private CpuSet irqbalanceBanned;
        private String vm;
        private int vcpus = 8;
        private int iothreads = 1;
        private CpuSet isolcpus = CpuSet.empty();
        private CpuSet nohzFull;
        private String kernelRelease = "6.9.7-arch1-1";
        private long seed = 1;

        public Builder cpus(int v) { cpus = v; return this; }
        public Builder threadsPerCore(int v) { threadsPerCore = v; return this; }
        /** Default: all CPUs of a package share one L3. */
        public Builder cpusPerL3(int v) { cpusPerL3 = v; return this; }
        public Builder numaNodes(int v) { numaNodes = v; return this; }
        public Builder packages(int v) { packages = v; return this; }
        public Builder offline(CpuSet v) { offline = v; return this; }
        public Builder irqs(int v) { irqs = v; return this; }
        public Builder nvmeQueues(int v) { nvmeQueues = v; return this; }
        public Builder processes(int v) { processes = v; return this; }
        public Builder threadsPerProcess(int v) { threadsPerProcess = v; return this; }
        /** Exactly this many tasks on the host (0: {@link #processes} decides). */
        public Builder tasks(int v) { tasks = v; return this; }
        public Builder cgroup(Cgroup v) { cgroup = v; return this; }
        public Builder cpusetController(boolean v) { cpusetController = v; return this; }
        public Builder cpufreq(String driver, List<String> available, String current) {
            cpufreqDriver = driver; governors = available; governor = current; return this;
        }
        public Builder noCpufreq() { cpufreqDriver = null; return this; }
        public Builder governor(String v) { governor = v; return this; }
        public Builder cpuidle(boolean v) { cpuidle = v; return this; }
        public Builder irqbalance(boolean running, CpuSet banned) { irqbalance = running; irqbalanceBanned = banned; return this; }
        public Builder vm(String name, int vcpuCount, int iothreadCount) { vm = name; vcpus = vcpuCount; iothreads = iothreadCount; return this; }
        public Builder noVm() { vm = null; return this; }
        public Builder isolcpus(CpuSet v) { isolcpus = v; return this; }
        public Builder nohzFull(CpuSet v) { nohzFull = v; return this; }
        public Builder kernelRelease(String v) { kernelRelease = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public HostSpec build() {
            int perL3 = cpusPerL3 > 0 ? cpusPerL3 : cpus / Math.max(1, packages);
            return new HostSpec(cpus, threadsPerCore, perL3, numaNodes, packages, offline, irqs, nvmeQueues,
                    processes, threadsPerProcess, tasks, cgroup, cpusetController, cpufreqDriver, governors, governor,
                    cpuidle, irqbalance, irqbalanceBanned, vm, vcpus, iothreads, isolcpus, nohzFull, kernelRelease, seed);
        }
    }
}
