package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.TreeSnapshot;

class ApplyRevertTest {
    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    /** The small cgroup v2 host, its tree as generated, and 'small' applied to it. */
    private record Applied(Path root, TreeSnapshot before, HostFs host, PlanService plans) {
    }

    private Applied applySmall() throws Exception {
        return applySmall(HostSpec.Cgroup.V2);
    }

    private Applied applySmall(HostSpec.Cgroup cgroup) throws Exception {
        return applySmall(TreeHosts.small(cgroup));
    }

    private Applied applySmall(HostSpec spec) throws Exception {
        Path root = TreeHosts.generate(spec, dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE), true);
        return new Applied(root, before, host, plans);
    }

    /** QEMU starts a worker thread while the hook pins the others: it keeps its creator's CPUs unless pinned too. */
    @Test
    void aThreadQemuStartsWhileTheOthersArePinnedIsPinnedToo() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        HostFs tree = HostFs.open(root);
        QemuProcess qemu = QemuProcess.find(tree, "small").orElseThrow();
        Path main = root.resolve("proc/" + qemu.pid() + "/task/" + qemu.pid());
        int workerTid = qemu.pid() + 900;
        Path worker = root.resolve("proc/" + qemu.pid() + "/task/" + workerTid);
        HostFs host = new org.vfioorchestrator.testing.ForwardingHostFs(tree) {
            @Override
            public void setThreadAffinity(int tid, CpuSet cpus) {
                if (!Files.exists(worker)) { // the first pin: QEMU's main thread starts a worker with its own CPUs now
                    try {
                        Files.createDirectories(worker);
                        for (String f : List.of("stat", "status", "comm")) {
                            Files.writeString(worker.resolve(f), Files.readString(main.resolve(f))
                                    .replace(qemu.pid() + " (qemu-system-x86)", workerTid + " (worker)")
                                    .replace("Name:\tqemu-system-x86", "Name:\tworker").replace("qemu-system-x86\n", "worker\n"));
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                super.setThreadAffinity(tid, cpus);
            }
        };
        PlanService plans = new PlanService(host);
        CpuSet workerBefore = tree.threadAffinity(qemu.pid());

        ApplyReport report = new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE), true);

        assertEquals(CpuSet.parseList("0,4"), tree.threadAffinity(workerTid), "the late worker, with the emulator thread");
        assertTrue(log.contains("small: 1 thread(s) started while the others were pinned; pinning them too"), log.toString());
        assertTrue(report.changed() > 0);
        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(workerBefore, tree.threadAffinity(workerTid), "revert gives the worker back the CPUs it was born with");
    }

    private String read(Path root, String path) throws Exception {
        return Files.readString(root.resolve(path.substring(1))).strip();
    }

    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void applyWritesThePlannedValuesAndRevertRestoresTheTreeByteForByte(HostSpec.Cgroup cgroup) throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(cgroup), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile p = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE);

        ApplyReport report = new Applier(plans, log::add).apply(p, true);
        assertTrue(report.changed() > 0);
        if (cgroup == HostSpec.Cgroup.V2) {
            assertEquals("0,4", read(root, "/sys/fs/cgroup/user.slice/cpuset.cpus"));
            assertEquals("0,4", read(root, "/sys/fs/cgroup/init.scope/cpuset.cpus"));
            // system.slice holds libvirtd, which must keep every CPU: its other services are confined instead
            assertEquals("", read(root, "/sys/fs/cgroup/system.slice/cpuset.cpus"));
            assertEquals("", read(root, "/sys/fs/cgroup/system.slice/libvirtd.service/cpuset.cpus"));
            assertEquals("0,4", read(root, "/sys/fs/cgroup/system.slice/sshd.service/cpuset.cpus"));
            assertEquals("", read(root, "/sys/fs/cgroup/machine.slice/cpuset.cpus"), "machine.slice keeps every CPU");
        } else if (cgroup == HostSpec.Cgroup.SYSTEMD) {
            // through systemd, whole slices: libvirtd is confined with system.slice (the lab shows QEMU still pinned)
            for (String unit : List.of("init.scope", "system.slice", "user.slice")) {
                assertEquals("0,4", read(root, "/sys/fs/cgroup/" + unit + "/cpuset.cpus"), unit);
                assertTrue(read(root, "/run/systemd/system.control/" + unit + ".d/50-AllowedCPUs.conf")
                        .endsWith("\nAllowedCPUs=\nAllowedCPUs=0,4"), unit);
            }
            assertEquals("cpuset cpu io memory pids", read(root, "/sys/fs/cgroup/cgroup.subtree_control"));
            assertEquals("", read(root, "/sys/fs/cgroup/machine.slice/cpuset.cpus"), "machine.slice keeps every CPU");
            assertFalse(host.exists("/run/systemd/system.control/machine.slice.d"));
        } else {
            assertEquals("0,4", read(root, "/sys/fs/cgroup/cpuset/vfio-host/cpuset.cpus"));
            String moved = read(root, "/sys/fs/cgroup/cpuset/vfio-host/cgroup.procs");
            assertFalse(moved.isEmpty(), "host processes moved into the host cpuset");
            // per-CPU kernel threads stay in the root
            for (String pid : read(root, "/sys/fs/cgroup/cpuset/cgroup.procs").split("\n")) {
                if (!pid.isBlank()) {
                    String stat = read(root, "/proc/" + pid.strip() + "/stat");
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    boolean perCpu = (Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[6]) & 0x04000000L) != 0;
                    assertTrue(perCpu || comm.equals("libvirtd") || comm.startsWith("qemu"), "left in root: " + comm);
                }
            }
        }
        // every movable IRQ on the host CPUs; managed ones untouched
        int movedIrqs = 0;
        for (String irq : host.list("/proc/irq")) {
            if (!irq.chars().allMatch(Character::isDigit)) {
                continue;
            }
            boolean managed = host.read("/sys/kernel/debug/irq/irqs/" + irq).orElse("").contains("IRQD_AFFINITY_MANAGED");
            String now = read(root, "/proc/irq/" + irq + "/smp_affinity_list");
            if (!managed) {
                assertEquals("0,4", now, "IRQ " + irq);
                movedIrqs++;
            }
        }
        assertTrue(movedIrqs > 5);
        assertEquals("11", read(root, "/proc/irq/default_smp_affinity"));
        assertEquals("11", read(root, "/sys/devices/virtual/workqueue/cpumask"));
        assertEquals("11", read(root, "/sys/devices/virtual/workqueue/writeback/cpumask"));
        for (int cpu : List.of(1, 2, 5, 6)) {
            assertEquals("performance", read(root, "/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor"));
            assertEquals("n/a", read(root, "/sys/devices/system/cpu/cpu" + cpu + "/power/pm_qos_resume_latency_us"));
        }
        assertEquals("schedutil", read(root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
        QemuProcess qemu = QemuProcess.find(host, "small").orElseThrow();
        for (var t : qemu.threads()) {
            CpuSet expected = t.role() == ThreadRole.VCPU ? CpuSet.of(List.of(1, 5, 2, 6).get(t.index())) : CpuSet.parseList("0,4");
            assertEquals(expected, host.threadAffinity(t.tid()), t.name());
        }
        assertTrue(host.exists(JournalStore.JOURNAL));

        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
        assertFalse(host.exists(JournalStore.JOURNAL), "the last VM out removes the journal");
    }

    /**
     * cgroup v2 without systemd: libvirt keeps its VMs in /sys/fs/cgroup/machine (its cgroup for VM 'small' is
     * qemu-1-small.libvirt-qemu). It keeps every CPU as machine.slice does: confined to the host's, the kernel
     * would refuse the vCPU pins (EINVAL).
     */
    @Test
    void withoutSystemdLibvirtsMachineCgroupKeepsEveryCpuAndTheVcpusArePinned() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        Path cgroups = root.resolve("sys/fs/cgroup");
        Files.move(cgroups.resolve("machine.slice"), cgroups.resolve("machine"));
        try (var scopes = Files.list(cgroups.resolve("machine"))) {
            Path scope = scopes.filter(Files::isDirectory).findFirst().orElseThrow();
            Files.move(scope, scope.resolveSibling("qemu-1-small.libvirt-qemu"));
        }
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);

        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE), true);
        assertEquals("", read(root, "/sys/fs/cgroup/machine/cpuset.cpus"), "machine keeps every CPU");
        assertEquals("0,4", read(root, "/sys/fs/cgroup/user.slice/cpuset.cpus"));
        QemuProcess qemu = QemuProcess.find(host, "small").orElseThrow();
        for (var t : qemu.threads()) {
            if (t.role() == ThreadRole.VCPU) {
                assertEquals(CpuSet.of(List.of(1, 5, 2, 6).get(t.index())), host.threadAffinity(t.tid()), t.name());
            }
        }

        assertTrue(new Reverter(plans, log::add).revert("small", false).complete());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    /**
     * cgroup v2 with the root's cpuset controller on before us (no systemd): the kernel refuses '' for a
     * cgroup with processes (ENOSPC, the lab's 6.1 and 6.12 kernels and the 6.18). Revert gives each
     * its parent's CPUs instead, so its processes may use every CPU again, says so, and exits cleanly.
     */
    @Test
    void aPopulatedCgroupTheKernelWillNotClearGetsItsParentsCpusAndRevertSaysSo() throws Exception {
        Applied a = applySmall(TreeHosts.cpusetOn(TreeHosts.small(HostSpec.Cgroup.V2)));
        assertEquals("0,4", read(a.root(), "/sys/fs/cgroup/user.slice/cpuset.cpus"));

        RevertReport r = new Reverter(a.plans(), log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        List<String> substituted = r.substituted().stream().map(x -> x.substring(0, x.indexOf(": "))).sorted().toList();
        // system.slice's services are not among them: their cpuset files went with the controller we had enabled
        assertEquals(List.of("/sys/fs/cgroup/init.scope/cpuset.cpus", "/sys/fs/cgroup/user.slice/cpuset.cpus"), substituted);
        for (String path : substituted) {
            assertEquals("0-7", read(a.root(), path), path + ": the parent's CPUs, every one");
        }
        assertEquals(List.of(), Restored.unexplained(a.before(), a.root(), r.substituted()));
        assertFalse(a.host().exists(JournalStore.JOURNAL), "nothing left to restore");
    }

    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void applyTwiceChangesNothingTheSecondTimeAndRevertTwiceIsANoOp(HostSpec.Cgroup cgroup) throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(cgroup), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        Profile p = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE);
        assertTrue(new Applier(plans, log::add).apply(p, true).changed() > 0);
        TreeSnapshot applied = TreeSnapshot.of(root);
        assertEquals(0, new Applier(plans, log::add).apply(p, true).changed());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)));

        assertTrue(new Reverter(plans, log::add).revert("small", false).wasApplied());
        RevertReport second = new Reverter(plans, log::add).revert("small", false);
        assertFalse(second.wasApplied());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void revertWithoutJournalDoesNothing() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        RevertReport r = new Reverter(new PlanService(HostFs.open(root)), log::add).revert("small", false);
        assertFalse(r.wasApplied());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void driftIsLeftAloneUnlessForced() throws Exception {
        Applied a = applySmall();
        a.host().write("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave"); // someone else

        RevertReport r = new Reverter(a.plans(), log::add).revert("small", false);
        assertEquals(1, r.drift().size(), r.toString());
        assertTrue(r.drift().get(0).startsWith("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor: now 'powersave'"));
        assertEquals("powersave", read(a.root(), "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor"));
        assertTrue(a.host().exists(JournalStore.JOURNAL), "the drifted entry stays in the journal");

        RevertReport forced = new Reverter(a.plans(), log::add).revert("small", true);
        assertTrue(forced.complete());
        assertEquals(List.of(), a.before().differences(TreeSnapshot.of(a.root())));
    }

    /**
     * A link out of the tree planted after apply ({@code proc/irq/0 -> ../../outside}): revert neither reads nor
     * writes through it, restores everything else, and keeps the entry, so a revert once the link is gone finishes.
     */
    @Test
    void revertNeverFollowsALinkOutOfTheTreeAndFinishesOnceItIsGone() throws Exception {
        Applied a = applySmall();
        Path irq = a.root().resolve("proc/irq/0");
        Path outside = dir.resolve("outside-irq0");
        Files.move(irq, outside);
        Files.createSymbolicLink(irq, irq.getParent().relativize(outside));
        TreeSnapshot outsideBefore = TreeSnapshot.of(outside);

        RevertReport r = new Reverter(a.plans(), log::add).revert("small", false);
        assertEquals(List.of("/proc/irq/0/smp_affinity_list: /proc/irq/0/smp_affinity_list: leads out of the host tree "
                + a.root() + " through a symlink (to " + outside.toRealPath() + "/smp_affinity_list); refusing to follow it."
                + " Remove the link from the tree"), r.failed());
        assertEquals(List.of(), outsideBefore.differences(TreeSnapshot.of(outside)), "nothing written outside the tree");
        assertTrue(a.host().exists(JournalStore.JOURNAL), "the entry that failed stays in the journal");

        Files.delete(irq);
        Files.move(outside, irq);
        assertTrue(new Reverter(a.plans(), log::add).revert("small", false).complete());
        assertEquals(List.of(), a.before().differences(TreeSnapshot.of(a.root())));
    }

    @Test
    void aJournalFromAnotherBootIsReportedNotApplied() throws Exception {
        Applied a = applySmall();
        Files.writeString(a.root().resolve("proc/sys/kernel/random/boot_id"), "00000000-1111-2222-3333-444444444444\n");
        TreeSnapshot rebooted = TreeSnapshot.of(a.root());
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> new Reverter(a.plans(), log::add).revert("small", false));
        assertEquals(ExitCode.UNEXPECTED_STATE, e.exitCode());
        assertTrue(e.getMessage().contains("is from an earlier boot"), e.getMessage());
        assertEquals(List.of(), rebooted.differences(TreeSnapshot.of(a.root())));
    }

    @Test
    void aCorruptOrTruncatedJournalIsRefusedAndNothingChanges() throws Exception {
        Applied a = applySmall();
        Path journal = a.host().resolve(JournalStore.JOURNAL);
        byte[] full = Files.readAllBytes(journal);
        for (byte[] damaged : List.of(java.util.Arrays.copyOf(full, full.length / 2), new byte[0],
                new String(full).replace("\"WRITE\"", "\"WRITE \"").getBytes())) {
            Files.write(journal, damaged);
            TreeSnapshot now = TreeSnapshot.of(a.root());
            OrchestratorException e = assertThrows(OrchestratorException.class,
                    () -> new Reverter(a.plans(), log::add).revert("small", false));
            assertEquals(ExitCode.UNEXPECTED_STATE, e.exitCode());
            assertTrue(e.getMessage().contains("refusing the journal"), e.getMessage());
            assertEquals(List.of(), now.differences(TreeSnapshot.of(a.root())));
        }
    }

    /** A journal written by version 1 (SHA-256 checksum and profile hash) when the tool is upgraded while a VM runs. */
    @Test
    void aVersion1JournalStillRestoresTheHost() throws Exception {
        Applied a = applySmall();
        Path journal = a.host().resolve(JournalStore.JOURNAL);
        String v2 = Files.readString(journal);
        assertTrue(v2.startsWith("# vfio-orchestrator journal v2 crc32c="), v2);
        Map<String, Object> body = JSON.std.mapFrom(v2.substring(v2.indexOf('\n') + 1));
        body.put("version", 1);
        for (Object vm : ((Map<?, ?>) body.get("vms")).values()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> v = (Map<String, Object>) vm;
            v.put("sha256", sha256((String) v.get("profileText")));
        }
        String v1 = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(body) + "\n";

        Files.writeString(journal, "# vfio-orchestrator journal v1 sha256=" + sha256("x") + "\n" + v1);
        TreeSnapshot applied = TreeSnapshot.of(a.root());
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> new Reverter(a.plans(), log::add).revert("small", false));
        assertTrue(e.getMessage().contains("its checksum does not match"), e.getMessage());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(a.root())));

        Files.writeString(journal, "# vfio-orchestrator journal v1 sha256=" + sha256(v1) + "\n" + v1);
        new Reverter(a.plans(), log::add).revert("small", false);
        assertEquals(List.of(), a.before().differences(TreeSnapshot.of(a.root())));
    }

    /** A journal file written by version 2 of the tool before its entries were records of their own. */
    private static String version2Journal(String name) throws Exception {
        return Files.readString(Path.of(System.getProperty("repo.root"),
                "orchestrator/src/test/resources/org/vfioorchestrator/apply/journal-v2", name));
    }

    /**
     * The tool is upgraded while a VM runs: the journal the old version wrote (committed as it wrote it, for
     * this tree) still restores the host, on cgroup v1 (cgroups made, processes moved) and v2 (the root's
     * cpuset controller on before, as on the host the journals were written on: its cgroups with processes get
     * their parent's CPUs instead of '', which the kernel refuses them).
     */
    @ParameterizedTest
    @EnumSource(value = HostSpec.Cgroup.class, names = {"V1", "V2"})
    void aVersion2JournalFromBeforeTheUpgradeStillRestoresTheHost(HostSpec.Cgroup cgroup) throws Exception {
        Applied a = applySmall(TreeHosts.cpusetOn(TreeHosts.small(cgroup)));
        Files.writeString(a.host().resolve(JournalStore.JOURNAL),
                version2Journal("small-applied-cgroup-" + cgroup.name().toLowerCase(java.util.Locale.ROOT) + ".journal"));

        RevertReport r = new Reverter(a.plans(), log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of(), Restored.unexplained(a.before(), a.root(), r.substituted()));
    }

    /**
     * The old version died before the 5th step of a second VM's start, its journal written ahead with values
     * in flight: after the upgrade, reverting that VM finds no drift and leaves the first as it was, and the
     * first VM's revert restores the host byte for byte.
     */
    @Test
    void aVersion2JournalWrittenAheadOfACrashStillKnowsTheValuesInFlight() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.cpusetOn(TreeHosts.small(HostSpec.Cgroup.V2)), dir);
        TreeSnapshot pristine = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, log::add);
        TreeSnapshot firstApplied = TreeSnapshot.of(root);
        PlanService dying = new PlanService(new org.vfioorchestrator.testing.FaultyHostFs(HostFs.open(root), 5,
                org.vfioorchestrator.testing.FaultyHostFs.Mode.CRASH, org.vfioorchestrator.host.Errno.OTHER));
        var other = TreeHosts.profile(dying, dir, "other", TreeHosts.OTHER_PROFILE);
        assertThrows(org.vfioorchestrator.testing.FaultyHostFs.Crash.class, () -> new Applier(dying, log::add).apply(other, true));
        String old = version2Journal("other-killed-before-step-5-cgroup-v2.journal");
        assertTrue(old.contains("\"inFlight\""), "the old journal has values in flight");
        Files.writeString(root.resolve(JournalStore.JOURNAL.substring(1)), old);

        RevertReport r = new Reverter(healthy, log::add).revert("other", false);
        assertTrue(r.complete(), "no drift: " + r);
        assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "the first VM as it was");
        RevertReport last = new Reverter(healthy, log::add).revert("small", false);
        assertTrue(last.complete(), last.toString());
        assertEquals(List.of(), Restored.unexplained(pristine, root, last.substituted()));
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void twoVmsShareTheHostAndTheLastOneOutRestoresEverything() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile small = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE);
        Profile other = TreeHosts.profile(plans, dir, "other", """
                host_cpus: 0,4
                vcpus:
                  pin: [3, 7]
                governor: performance
                """);
        new Applier(plans, log::add).apply(small, true);
        new Applier(plans, log::add).apply(other, true);
        assertEquals("performance", read(root, "/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor"));

        // stopping the first keeps the second isolated
        assertTrue(new Reverter(plans, log::add).revert("small", false).complete());
        assertEquals("schedutil", read(root, "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor"));
        assertEquals("performance", read(root, "/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor"));
        assertEquals("0,4", read(root, "/sys/fs/cgroup/user.slice/cpuset.cpus"));
        assertEquals("0", read(root, "/sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us"));

        assertTrue(new Reverter(plans, log::add).revert("other", false).complete());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aSecondVmClaimingTheSameCpuIsRefusedNamingBoth() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        PlanService plans = new PlanService(HostFs.open(root));
        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE), true);
        TreeSnapshot applied = TreeSnapshot.of(root);
        Profile greedy = TreeHosts.profile(plans, dir, "greedy", "host_cpus: 0,4\nvcpus:\n  pin: [2, 3]\n");
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> new Applier(plans, log::add).apply(greedy, true));
        assertEquals(ExitCode.UNEXPECTED_STATE, e.exitCode());
        assertEquals("VM greedy wants CPU 2, which VM small already has (" + dir.resolve("small.yaml")
                + " (as applied)); give the two VMs different vCPU CPUs", e.getMessage());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)));
    }
}
