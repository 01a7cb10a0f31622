package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.jr.ob.JSON;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.status.Status;
import org.vfioorchestrator.status.StatusService;
import org.vfioorchestrator.status.StatusText;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * partition: machine.slice as a cpuset partition of the CPUs the host gives up, on the small host
 * (CPUs 0-7, the host keeps 0,4), planned, applied, shown by status and reverted.
 */
class PartitionTest {
    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    /** The small profile with every VM thread on the VM's CPUs, as a partition needs. */
    static final String PROFILE = """
            host_cpus: 0,4
            vcpus:
              pin: [1, 5, 2, 6]
            emulator_cpus: 3
            iothread_cpus: 7
            governor: leave
            cstates:
              method: leave
            partition: isolated
            """;

    @Test
    void throughSystemdMachineSliceGetsTheVmsCpusThenBecomesIsolatedAndRevertPutsBothBack() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        var profile = TreeHosts.profile(plans, dir, "small", PROFILE);

        Plan plan = plans.plan(List.of(profile));
        List<String> tail = plan.changes().stream().filter(c -> c.path().contains("machine.slice"))
                .map(c -> c.path() + " " + c.after()).toList();
        assertEquals(List.of("/run/systemd/system.control/machine.slice.d/50-AllowedCPUs.conf 1-3,5-7",
                "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition isolated"), tail);
        int slices = indexOf(plan, "/run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf");
        assertTrue(slices >= 0 && slices < indexOf(plan, "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition"),
                "the host's slices leave the CPUs before the partition takes them");

        ApplyReport report = new Applier(plans, log::add).apply(profile, true);
        assertEquals(List.of(), report.refused());
        assertEquals("isolated", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertEquals("1-3,5-7", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus"));
        assertEquals("0,4", read(root, "sys/fs/cgroup/user.slice/cpuset.cpus.effective"));
        assertTrue(read(root, "run/systemd/system.control/machine.slice.d/50-AllowedCPUs.conf").endsWith("AllowedCPUs=1-3,5-7"));

        Status status = new StatusService(HostFs.open(root)).read(null);
        assertEquals(List.of(new Status.Partition("/sys/fs/cgroup/machine.slice", "isolated")), status.partitions());
        assertTrue(print(status).contains("\npartition: /sys/fs/cgroup/machine.slice isolated\n"), print(status));

        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void writingCgroupfsDirectlyTheSameHoldsAndMachineSliceGetsItsParentsCpusBackWhereTheKernelWillNotClearIt()
            throws Exception {
        Path root = TreeHosts.generate(TreeHosts.cpusetOn(TreeHosts.small(HostSpec.Cgroup.V2)), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", PROFILE), true);
        assertEquals("isolated", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertEquals("1-3,5-7", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus"));

        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals("member", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertTrue(r.substituted().stream().anyMatch(s -> s.startsWith("/sys/fs/cgroup/machine.slice/cpuset.cpus: ")),
                r.substituted().toString());
        assertEquals(List.of(), Restored.unexplained(before, root, r.substituted()));
    }

    /**
     * A cgroup systemd does not know (made by hand or another tool) holds the VM's CPUs: the kernel makes the
     * partition invalid, so it goes back to member, the rest stays applied, and apply says why.
     */
    @Test
    void aPartitionTheKernelFindsInvalidIsPutBackToMemberAndReportedAsRefused() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.cpusetOn(TreeHosts.small(HostSpec.Cgroup.SYSTEMD)), dir);
        for (String f : List.of("cgroup.procs", "cgroup.controllers", "cgroup.subtree_control")) {
            Files.createDirectories(root.resolve("sys/fs/cgroup/custom"));
            Files.writeString(root.resolve("sys/fs/cgroup/custom/" + f), "\n");
        }
        Files.writeString(root.resolve("sys/fs/cgroup/custom/cpuset.cpus"), "0-7\n");
        PlanService plans = new PlanService(HostFs.open(root));

        ApplyReport report = new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", PROFILE), true);
        assertEquals(List.of("/sys/fs/cgroup/machine.slice/cpuset.cpus.partition"),
                report.refused().stream().map(Refusal::path).toList());
        assertEquals("left in place (the kernel refused) 1: machine.slice as a partition: the kernel made it 'isolated"
                + " invalid (Cpu list in cpuset.cpus not exclusive)', so it stays member", report.refusedSummary());
        assertEquals("member", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertEquals("0,4", read(root, "sys/fs/cgroup/user.slice/cpuset.cpus"), "the rest is applied");
    }

    @Test
    void aPartitionWithTheEmulatorOnHostCpusIsRefusedWithTheFix() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), dir);
        PlanService plans = new PlanService(HostFs.open(root));
        var profile = TreeHosts.profile(plans, dir, "small", PROFILE.replace("emulator_cpus: 3", "emulator_cpus: 0,4"));
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> plans.plan(List.of(profile)));
        assertEquals("partition: isolated puts every thread of small in machine.slice, off the host CPUs, but its"
                + " emulator thread or iothreads go on host CPU 0,4 (" + dir.resolve("small.yaml") + "); give emulator_cpus"
                + " and iothread_cpus CPUs of the VM's, e.g. emulator_cpus: 1, or leave partition out", e.getMessage());
    }

    @Test
    void onCgroupV1ThePlanSaysThereIsNoPartitionAndGoesOnWithout() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V1), dir);
        PlanService plans = new PlanService(HostFs.open(root));
        Plan plan = plans.plan(List.of(TreeHosts.profile(plans, dir, "small", PROFILE)));
        assertTrue(plan.warnings().stream().anyMatch(w -> w.startsWith("partition: isolated needs cgroup v2")),
                plan.warnings().toString());
        assertFalse(plan.changes().stream().anyMatch(c -> c.path().contains("partition")));
        assertTrue(plan.changes().stream().anyMatch(c -> c instanceof Change.MoveProcesses), "the rest is planned");
    }

    /** Debian 10's kernel: cgroup v2 with cpusets but no partitions yet (Linux 5.0 brought them). */
    static final String LINUX_4_19 = "4.19.0-27-amd64";
    /** Debian 11's kernel: partitions, but only 'root' (Linux 6.1 brought 'isolated'). */
    static final String LINUX_5_10 = "5.10.0-28-amd64";

    private static HostSpec kernel(HostSpec spec, String release) {
        return spec.toBuilder().kernelRelease(release).build();
    }

    private Path profileFile(String yaml) throws Exception {
        Path file = dir.resolve("small.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void onAKernelWithoutPartitionFilesThePlanSaysSoAndTheRestIsAppliedAndReverted() throws Exception {
        Path root = TreeHosts.generate(kernel(TreeHosts.cpusetOn(TreeHosts.small(HostSpec.Cgroup.V2)), LINUX_4_19), dir);
        assertFalse(Files.exists(root.resolve("sys/fs/cgroup/machine.slice/cpuset.cpus.partition")));
        assertTrue(Files.exists(root.resolve("sys/fs/cgroup/machine.slice/cpuset.cpus")));
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        Plan plan = plans.plan(List.of(TreeHosts.profile(plans, dir, "small", PROFILE)));
        assertEquals(List.of("partition: isolated: this kernel (4.19.0-27-amd64) has no cpuset partitions (no"
                + " cpuset.cpus.partition); the VM's CPUs stay in the scheduler's load balancing"), plan.warnings());
        assertFalse(plan.changes().stream().anyMatch(c -> c.path().contains("machine.slice")), plan.changes().toString());

        CliRun apply = CliRun.run("apply", "small", "--host-root", root.toString(), "--profile", profileFile(PROFILE).toString());
        assertEquals(0, apply.code(), apply.err());
        assertFalse(apply.out().contains("refused"), apply.out());
        assertEquals("0,4", read(root, "sys/fs/cgroup/user.slice/cpuset.cpus"), "the rest is applied");
        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of(), Restored.unexplained(before, root, r.substituted()));
    }

    /**
     * On systemd hosts machine.slice has no cpuset files until systemd enables the controller for its AllowedCPUs, at
     * apply: only then does a kernel without partitions show it (ENOENT); the plan says what the version leads to expect.
     */
    @Test
    void throughSystemdAKernelWithoutPartitionsRefusesAtApplyAndTheRestIsAppliedAndRevertedByteForByte() throws Exception {
        Path root = TreeHosts.generate(kernel(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), LINUX_4_19), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        Plan plan = plans.plan(List.of(TreeHosts.profile(plans, dir, "small", PROFILE)));
        String warning = "partition: isolated: this kernel (4.19.0-27-amd64) is older than Linux 5.0, which brought cpuset"
                + " partitions: unless its distribution added them, apply finds none and goes on without";
        assertEquals(List.of(warning), plan.warnings());

        CliRun apply = CliRun.run("apply", "small", "--host-root", root.toString(), "--profile", profileFile(PROFILE).toString());
        assertEquals(0, apply.code(), apply.err());
        assertEquals("", apply.err());
        assertTrue(apply.out().contains("\nleft in place (the kernel refused) 1: machine.slice as a partition: this kernel has"
                + " no cpuset.cpus.partition\nwarning: " + warning + "\nundo with: vfio-orchestrator revert small\n"), apply.out());
        assertFalse(Files.exists(root.resolve("sys/fs/cgroup/machine.slice/cpuset.cpus.partition")));
        assertEquals("1-3,5-7", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus"), "the rest is applied");
        assertEquals("0,4", read(root, "sys/fs/cgroup/user.slice/cpuset.cpus"));

        CliRun status = CliRun.run("status", "--host-root", root.toString());
        assertEquals(0, status.code(), status.out() + status.err());
        assertFalse(status.out().contains("partition:"), "the journal holds no partition: " + status.out());

        CliRun revert = CliRun.run("revert", "small", "--host-root", root.toString());
        assertEquals(0, revert.code(), revert.out() + revert.err());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    /**
     * A kernel before 6.1 has the partition file but refuses 'isolated' with EINVAL: apply says so and that 'root' may
     * work, keeps the rest, and revert is clean; 'root' on the same host is a partition indeed.
     */
    @Test
    void aKernelThatDoesNotKnowIsolatedRefusesItTheRestIsAppliedAndRootWorksThere() throws Exception {
        HostSpec spec = kernel(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), LINUX_5_10);
        Path root = TreeHosts.generate(spec, dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        Plan plan = plans.plan(List.of(TreeHosts.profile(plans, dir, "small", PROFILE)));
        String warning = "partition: isolated: this kernel (5.10.0-28-amd64) is older than Linux 6.1, which brought"
                + " 'isolated' partitions: unless its distribution added them, apply finds 'isolated' refused and goes on"
                + " without; partition: root may work";
        assertEquals(List.of(warning), plan.warnings());
        assertTrue(plan.changes().stream().anyMatch(c -> c.path().endsWith("/cpuset.cpus.partition")), "apply tries");

        CliRun apply = CliRun.run("apply", "small", "--host-root", root.toString(), "--profile", profileFile(PROFILE).toString());
        assertEquals(0, apply.code(), apply.out() + apply.err());
        assertTrue(apply.out().contains("\nleft in place (the kernel refused) 1: machine.slice as a partition: this kernel"
                + " does not know 'isolated' (EINVAL; Linux 6.1 brought it): partition: root may work\nwarning: " + warning
                + "\n"), apply.out());
        assertEquals("member", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertEquals("1-3,5-7", read(root, "sys/fs/cgroup/machine.slice/cpuset.cpus"), "the rest is applied");
        assertEquals("0,4", read(root, "sys/fs/cgroup/user.slice/cpuset.cpus.effective"));
        CliRun revert = CliRun.run("revert", "small", "--host-root", root.toString());
        assertEquals(0, revert.code(), revert.out() + revert.err());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));

        Path rootHost = TreeHosts.generate(spec, dir, "root-host");
        TreeSnapshot rootBefore = TreeSnapshot.of(rootHost);
        CliRun asRoot = CliRun.run("apply", "small", "--host-root", rootHost.toString(), "--profile",
                profileFile(PROFILE.replace("partition: isolated", "partition: root")).toString());
        assertEquals(0, asRoot.code(), asRoot.out() + asRoot.err());
        assertFalse(asRoot.out().contains("refused") || asRoot.out().contains("warning"), asRoot.out());
        assertEquals("root", read(rootHost, "sys/fs/cgroup/machine.slice/cpuset.cpus.partition"));
        assertEquals(0, CliRun.run("revert", "small", "--host-root", rootHost.toString()).code());
        assertEquals(List.of(), rootBefore.differences(TreeSnapshot.of(rootHost)));
    }

    /**
     * The kernel may find a partition invalid after apply made it (a CPU taken offline, another tool's cgroup): status
     * shows its word for it with what to do, and exits 3; revert makes it a member first, and the host is back byte for
     * byte.
     */
    @Test
    void statusShowsAPartitionTheKernelMadeInvalidAndExitsThreeAndRevertMakesItAMember() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        CliRun apply = CliRun.run("apply", "small", "--host-root", root.toString(), "--profile", profileFile(PROFILE).toString());
        assertEquals(0, apply.code(), apply.out() + apply.err());
        assertEquals(0, CliRun.run("status", "--host-root", root.toString()).code(), "valid: nothing to see");
        Files.writeString(root.resolve("sys/fs/cgroup/machine.slice/cpuset.cpus.partition"),
                "isolated invalid (Cpu list in cpuset.cpus not exclusive)\n");

        CliRun status = CliRun.run("status", "--host-root", root.toString());
        assertEquals(3, status.code(), status.out() + status.err());
        assertEquals("", status.err());
        assertTrue(status.out().endsWith("\n\npartition: /sys/fs/cgroup/machine.slice isolated invalid (Cpu list in cpuset.cpus"
                + " not exclusive): the kernel balances its CPUs with the host's again; 'revert' then 'apply' makes it"
                + " anew\n"), status.out());
        CliRun json = CliRun.run("status", "--host-root", root.toString(), "--json");
        assertEquals(3, json.code());
        Map<String, Object> shown = JSON.std.mapFrom(json.out());
        assertEquals(List.of(Map.of("cgroup", "/sys/fs/cgroup/machine.slice", "state",
                "isolated invalid (Cpu list in cpuset.cpus not exclusive)", "valid", false)), shown.get("partitions"));
        assertEquals(true, shown.get("needsAttention"));

        // the partition goes back to member before machine.slice gives its CPUs back; systemd then takes its cpuset
        // files away with the controller it no longer needs
        CliRun revert = CliRun.run("revert", "small", "--host-root", root.toString(), "--verbose");
        assertEquals(0, revert.code(), revert.out() + revert.err());
        assertTrue(revert.out().contains("\n  restored /sys/fs/cgroup/machine.slice/cpuset.cpus.partition = member\n"
                + "  restored /run/systemd/system.control/machine.slice.d/50-AllowedCPUs.conf\n"), revert.out());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    private static int indexOf(Plan plan, String path) {
        for (int i = 0; i < plan.changes().size(); i++) {
            if (plan.changes().get(i).path().equals(path)) {
                return i;
            }
        }
        return -1;
    }

    private static String print(Status s) {
        StringWriter out = new StringWriter();
        StatusText.print(s, Instant.now(), new PrintWriter(out, true));
        return out.toString();
    }

    private static String read(Path root, String file) throws Exception {
        return Files.readString(root.resolve(file)).strip();
    }
}
