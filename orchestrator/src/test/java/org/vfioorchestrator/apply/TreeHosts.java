package org.vfioorchestrator.apply;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;

/** Small generated hosts and profiles for apply/revert tests. */
final class TreeHosts {
    private TreeHosts() {
    }

    /**
     * 8 CPUs (siblings n, n+4), 16 IRQs incl. managed NVMe queues, VM "small" running with 4 vCPUs. On v2 the
     * root's cpuset controller is off, as systemd leaves it while no unit asks for it ({@link #cpusetOn} for a
     * host where it is on).
     */
    static HostSpec small(HostSpec.Cgroup cgroup) {
        return HostSpec.builder().cpus(8).threadsPerCore(2).cpusPerL3(8).numaNodes(1).packages(1)
                .irqs(16).nvmeQueues(4).processes(10).cgroup(cgroup).cpusetController(false)
                .cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil").cpuidle(true)
                .irqbalance(false, null).vm("small", 4, 1).seed(7).build();
    }

    /**
     * The small v2 host with the root's cpuset controller on before the tool comes: its cgroups that hold
     * processes cannot go back to cpuset.cpus '' after a revert (see {@link Restored}).
     */
    static HostSpec cpusetOn(HostSpec spec) {
        return spec.toBuilder().cpusetController(true).build();
    }

    static final String SMALL_PROFILE = """
            host_cpus: 0,4
            vcpus:
              pin: [1, 5, 2, 6]
            emulator_cpus: 0,4
            iothread_cpus: 0,4
            governor: performance
            cstates:
              method: pm_qos
              max_latency_us: 0
            """;

    /**
     * On the small host: VM "small" leaving CPUs 0,3,4,7 to the host, and VM "other" taking 3 and 7
     * of them. Started after it, "other" narrows what the host keeps (the host cpuset, IRQs and
     * workqueues move from 0,3,4,7 to 0,4): journal entries both VMs share.
     */
    static final String WIDE_HOST_SMALL_PROFILE = "host_cpus: 0,3,4,7\nvcpus:\n  pin: [1, 5, 2, 6]\ngovernor: performance\n";
    static final String OTHER_PROFILE = "host_cpus: 0,4\nvcpus:\n  pin: [3, 7]\ngovernor: performance\n";

    /** 4 CPUs (two cores, siblings n, n+2), a few IRQs and processes: for tests that build many trees. */
    static HostSpec tiny(HostSpec.Cgroup cgroup) {
        return small(cgroup).toBuilder().cpus(4).cpusPerL3(4).irqs(16).nvmeQueues(2).processes(5).vm("tiny", 2, 1).build();
    }

    static final String TINY_PROFILE = """
            host_cpus: 0,2
            vcpus:
              pin: [1, 3]
            governor: performance
            cstates:
              method: disable_states
              max_latency_us: 10
            """;

    /** Writes the host tree for {@code spec} into {@code dir/name}, rendering each spec only once per run. */
    static Path generate(HostSpec spec, Path dir, String name) throws IOException {
        Path root = dir.resolve(name);
        HostTreeGenerator.writeCached(spec, root);
        return root;
    }

    static Path generate(HostSpec spec, Path dir) throws IOException {
        return generate(spec, dir, "host");
    }

    static Profile profile(PlanService plans, Path dir, String vm, String yaml) throws IOException {
        Path file = dir.resolve(vm + ".yaml");
        Files.writeString(file, yaml);
        return plans.load(file);
    }

    /** Starts VM "small" with {@link #WIDE_HOST_SMALL_PROFILE}: the first of the two VMs. */
    static void applyWideHostSmall(PlanService plans, Path dir, Consumer<String> log) throws IOException {
        new Applier(plans, log).apply(profile(plans, dir, "small", WIDE_HOST_SMALL_PROFILE), true);
    }

    static PlanService plans(HostFs host) {
        return new PlanService(host);
    }
}
