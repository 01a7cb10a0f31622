package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.hook.HookMain;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.FullDiskHostFs;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.Tally;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * Faults beyond a failing kernel write (FaultInjectionTest): /run full at every
 * journal save of an apply and of a revert, a thread that exits between plan
 * and pin, an IRQ whose device is unplugged before revert, two hook calls
 * racing, and a profile removed or made unsafe while its VM runs. The promise
 * each time: the host ends byte-identical, or what is left is reported with
 * the command that finishes the job, and that command does.
 */
class JournalFaultTest {
    static final Tally TALLY = new Tally("JournalFaultTest");

    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    @AfterAll
    static void report() {
        TALLY.print();
    }


    private static void assertRestored(TreeSnapshot expected, Path root, String what) {
        TALLY.add("after-checks");
        List<String> diff = expected.differences(TreeSnapshot.of(root));
        if (!diff.isEmpty()) {
            TALLY.add("state lost");
        }
        assertEquals(List.of(), diff, what);
    }

    private static boolean journalExists(Path root) {
        return Files.exists(root.resolve("run/vfio-orchestrator/journal.json"));
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    // ---------------------------------------------------------------- /run full

    private int journalSavesOfACleanApply(HostSpec spec) throws Exception {
        Path root = TreeHosts.generate(spec, dir, "count-apply");
        FullDiskHostFs counting = new FullDiskHostFs(HostFs.open(root), Integer.MAX_VALUE, FullDiskHostFs.Mode.ONCE);
        PlanService plans = new PlanService(counting);
        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE), true);
        deleteTree(root);
        return counting.saves();
    }

    /**
     * An apply saves the journal ahead of its first change, and once more after the last when the
     * journal differs from what was written ahead (on cgroup v1: the pids moved into the host cpuset).
     * /run full at the save ahead: nothing changed. At the save after: the apply stands, and revert
     * restores everything from the journal written ahead.
     */
    @ParameterizedTest
    @EnumSource(FullDiskHostFs.Mode.class)
    void runFullAtAnyJournalSaveOfAnApplyLeavesTheHostAsItWas(FullDiskHostFs.Mode mode) throws Exception {
        for (HostSpec.Cgroup cgroup : HostSpec.Cgroup.values()) {
            HostSpec spec = TreeHosts.tiny(cgroup);
            int saves = journalSavesOfACleanApply(spec);
            assertEquals(cgroup == HostSpec.Cgroup.V1 ? 2 : 1, saves, cgroup + ": journal saves of a clean apply");
            Path root = TreeHosts.generate(spec, dir, "enospc-apply-" + cgroup);
            Files.createDirectories(root.resolve("var/log"));
            TreeSnapshot before = TreeSnapshot.of(root);
            for (int k = 1; k <= saves; k++) { // one tree for all: each k must leave it as it was
                PlanService plans = new PlanService(new FullDiskHostFs(HostFs.open(root), k, mode));
                Profile p = TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE);
                TALLY.fault("/run full at an apply's journal save");
                if (k == 1) {
                    OrchestratorException e = assertThrows(OrchestratorException.class,
                            () -> new Applier(plans, log::add).apply(p, true), "save " + k);
                    assertEquals(ExitCode.HOST_OR_DATA, e.exitCode());
                    assertEquals("could not write the journal " + root.resolve("run/vfio-orchestrator/journal.json")
                            + ": /run/vfio-orchestrator/.journal.json.tmp: No space left on device (ENOSPC). Nothing was changed;"
                            + " make room in /run (df /run) and try again.", e.getMessage());
                    assertRestored(before, root, cgroup + " save " + k + " " + mode);
                    assertFalse(journalExists(root), "save " + k + ": no journal left behind");
                    // once there is space again, nothing is pending
                    assertFalse(new Reverter(new PlanService(HostFs.open(root)), log::add).revert("tiny", false).wasApplied());
                } else {
                    new Applier(plans, log::add).apply(p, true);
                    assertTrue(log.stream().anyMatch(l -> l.startsWith("could not tidy the journal after the changes: ")), "logged");
                    RevertReport r = new Reverter(new PlanService(HostFs.open(root)), log::add).revert("tiny", false);
                    assertTrue(r.complete(), cgroup + " save " + k + ": " + r);
                    assertRestored(before, root, cgroup + " save " + k + " " + mode + ", reverted from the journal written ahead");
                }
            }
        }
    }

    /**
     * Stopping one of two VMs saves the journal (the other VM's settings re-asserted, then the
     * journal without the stopped VM). /run full at any of those saves: the revert stops or reports
     * the journal it could not update, the running VM keeps its isolation, and once there is space a
     * second revert finishes; nothing is lost.
     */
    @ParameterizedTest
    @EnumSource(FullDiskHostFs.Mode.class)
    void runFullAtAnyJournalSaveOfARevertStillRestoresEverything(FullDiskHostFs.Mode mode) throws Exception {
        HostSpec spec = TreeHosts.small(HostSpec.Cgroup.V2);
        Path root = TreeHosts.generate(spec, dir, "enospc-revert");
        TreeSnapshot pristine = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, log::add);
        TreeSnapshot smallApplied = TreeSnapshot.of(root);
        int saves = -1;
        for (int k = 1; saves < 0 || k <= saves; k++) { // one tree for all: each k must restore it
            new Applier(healthy, log::add).apply(TreeHosts.profile(healthy, dir, "other", TreeHosts.OTHER_PROFILE), true);
            FullDiskHostFs full = new FullDiskHostFs(HostFs.open(root), saves < 0 ? Integer.MAX_VALUE : k, mode);
            if (saves < 0) {
                assertTrue(new Reverter(new PlanService(full), log::add).revert("other", false).complete());
                saves = full.saves(); // the first round counts the saves of a clean revert
                assertTrue(saves >= 2, "the other VM's settings re-asserted, then the journal: " + saves + " saves");
                k = 0;
            } else {
                TALLY.fault("/run full at a revert's journal save");
                RevertReport r = new Reverter(new PlanService(full), log::add).revert("other", false);
                assertTrue(r.failed().stream().allMatch(f -> f.contains("No space left on device")), "save " + k + ": " + r);
                assertTrue(r.drift().isEmpty(), "save " + k + ": " + r);
                // space again: revert finishes what is left
                RevertReport again = new Reverter(healthy, log::add).revert("other", false);
                assertTrue(again.drift().isEmpty() && again.failed().isEmpty(), "save " + k + ": " + again);
            }
            assertRestored(smallApplied, root, "save " + k + " " + mode + ": the small VM as it was");
        }
        assertTrue(new Reverter(healthy, log::add).revert("small", false).complete());
        assertRestored(pristine, root, "the last VM out");
        assertFalse(journalExists(root), "the last VM out removes the journal");
    }

    /**
     * /run full, and staying full, while a second VM starts: at the save ahead nothing changes and the
     * journal is untouched; at the tidy-up save after the changes the start stands, and stopping it
     * restores the first VM's state from the journal written ahead.
     */
    @Test
    void runStaysFullWhileASecondVmStartsAndNothingIsLost() throws Exception {
        HostSpec spec = TreeHosts.small(HostSpec.Cgroup.V1);
        Path root = TreeHosts.generate(spec, dir, "enospc-second");
        TreeSnapshot pristine = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, log::add);
        TreeSnapshot smallApplied = TreeSnapshot.of(root);
        byte[] journalWithSmall = Files.readAllBytes(root.resolve("run/vfio-orchestrator/journal.json"));
        FullDiskHostFs counter = new FullDiskHostFs(HostFs.open(root), Integer.MAX_VALUE, FullDiskHostFs.Mode.ONCE);
        PlanService counting = new PlanService(counter);
        new Applier(counting, log::add).apply(TreeHosts.profile(counting, dir, "other", TreeHosts.OTHER_PROFILE), true);
        int saves = counter.saves();
        assertEquals(2, saves, "ahead of the changes, and after them without the values in flight");
        assertTrue(new Reverter(healthy, log::add).revert("other", false).complete());
        assertRestored(smallApplied, root, "counting round");
        for (int k = 1; k <= saves; k++) { // one tree for all: each k must restore it
            PlanService full = new PlanService(new FullDiskHostFs(HostFs.open(root), k, FullDiskHostFs.Mode.STAYS_FULL));
            Profile p = TreeHosts.profile(full, dir, "other", TreeHosts.OTHER_PROFILE);
            TALLY.fault("/run full while a second VM starts");
            if (k == 1) {
                OrchestratorException e = assertThrows(OrchestratorException.class, () -> new Applier(full, log::add).apply(p, true));
                assertTrue(e.getMessage().startsWith("could not write the journal ") && e.getMessage().contains("Nothing was changed"),
                        e.getMessage());
                assertTrue(java.util.Arrays.equals(journalWithSmall,
                        Files.readAllBytes(root.resolve("run/vfio-orchestrator/journal.json"))), "the journal untouched");
            } else {
                new Applier(full, log::add).apply(p, true);
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int code = Main.run(new PrintWriter(out), new PrintWriter(err), "revert", "other", "--host-root", root.toString());
                assertEquals(0, code, out + " " + err);
            }
            assertRestored(smallApplied, root, "save " + k);
        }
        assertTrue(new Reverter(healthy, log::add).revert("small", false).complete());
        assertRestored(pristine, root, "after 'revert small'");
        assertFalse(journalExists(root));
    }

    // ---------------------------------------------------------------- things that vanish

    /** The host, with {@code action} run just before the first kernel change: after planning, before applying. */
    private static HostFs beforeTheFirstChange(HostFs host, Runnable action) {
        AtomicBoolean done = new AtomicBoolean();
        Set<String> changes = Set.of("write", "mkdir", "rmdir", "setThreadAffinity");
        return (HostFs) Proxy.newProxyInstance(HostFs.class.getClassLoader(), new Class<?>[] {HostFs.class}, (proxy, m, args) -> {
            if (changes.contains(m.getName()) && done.compareAndSet(false, true)) {
                action.run();
            }
            try {
                return m.invoke(host, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test
    void aThreadThatExitsBetweenPlanAndPinIsSkippedNotAnError() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.tiny(HostSpec.Cgroup.V2), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        QemuProcess qemu = QemuProcess.find(HostFs.open(root), "tiny").orElseThrow();
        QemuThread vcpu1 = qemu.threads().stream().filter(t -> t.role() == ThreadRole.VCPU && t.index() == 1).findFirst().orElseThrow();
        String task = "proc/" + qemu.pid() + "/task/" + vcpu1.tid();
        HostFs host = beforeTheFirstChange(HostFs.open(root), () -> {
            try {
                deleteTree(root.resolve(task)); // the thread exits
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        PlanService plans = new PlanService(host);
        Profile p = TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE);

        ApplyReport report = new Applier(plans, log::add).apply(p, true);
        TALLY.fault("a thread exits between plan and pin");
        assertEquals(List.of("/" + task), report.gone(), "the vanished thread is reported gone");
        assertTrue(report.changed() > 10);
        assertTrue(new JournalStore(host).load().orElseThrow().entry("/" + task).isEmpty(), "no before-image for a pin never made");

        RevertReport r = new Reverter(new PlanService(HostFs.open(root)), log::add).revert("tiny", false);
        assertTrue(r.complete(), r.toString());
        List<String> diff = before.differences(TreeSnapshot.of(root));
        assertFalse(diff.isEmpty());
        assertTrue(diff.stream().allMatch(d -> d.startsWith("missing now: " + task)), "only the thread is gone: " + diff);
        assertFalse(journalExists(root));
    }

    @Test
    void anIrqWhoseDeviceIsUnpluggedBeforeRevertIsReportedGoneAndRevertCompletes() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.tiny(HostSpec.Cgroup.V2), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE), true);
        Journal journal = new JournalStore(host).load().orElseThrow();
        String irqFile = journal.entries().stream().map(JournalEntry::path)
                .filter(path -> path.matches("/proc/irq/\\d+/smp_affinity_list")).findFirst().orElseThrow();
        String irqDir = irqFile.substring(1, irqFile.lastIndexOf('/'));
        deleteTree(root.resolve(irqDir)); // the device is unplugged: its IRQ goes away

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "revert", "tiny", "--host-root", root.toString());
        TALLY.fault("an IRQ unplugged before revert");
        assertEquals("", err.toString());
        assertEquals(0, code);
        assertTrue(out.toString().contains("gone since (a device unplugged?), nothing to restore: " + irqFile
                + ": no longer exists\n"), out.toString());
        List<String> diff = before.differences(TreeSnapshot.of(root));
        assertTrue(diff.stream().allMatch(d -> d.startsWith("missing now: " + irqDir)), "only the IRQ is gone: " + diff);
        assertFalse(journalExists(root), "nothing left to restore");
    }

    // ---------------------------------------------------------------- the hook, concurrently and after a profile went bad

    private static Path installProfile(Path root, String vm, String yaml) throws IOException {
        Files.createDirectories(root.resolve("var/log")); // as on any host; the hook logs below it
        Path p = root.resolve("etc/vfio-orchestrator/profiles/" + vm + ".yaml");
        Files.createDirectories(p.getParent());
        Files.writeString(p, yaml);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        return p;
    }

    private static String hook(Path root, String vm, String op, String sub) {
        StringWriter err = new StringWriter();
        int code = HookMain.run(new PrintWriter(err), new ByteArrayInputStream(new byte[0]),
                List.of("--host-root", root.toString(), vm, op, sub, "-"));
        return code + (err.toString().isEmpty() ? "" : " " + err);
    }


    @Test
    void twoHookCallsRacingForTwoVmsAreSerialisedAndBothRevertToTheByte() throws Exception {
        HostSpec spec = TreeHosts.small(HostSpec.Cgroup.V2);
        // what the two starts give one after the other
        Path reference = TreeHosts.generate(spec, dir, "reference");
        installProfile(reference, "small", TreeHosts.SMALL_PROFILE);
        installProfile(reference, "other", TreeHosts.OTHER_PROFILE);
        for (String vm : List.of("small", "other")) {
            assertEquals("0", hook(reference, vm, "prepare", "begin"));
            assertEquals("0", hook(reference, vm, "started", "begin"));
        }
        TreeSnapshot bothApplied = TreeSnapshot.of(reference);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 1; round <= 3; round++) {
                Path root = TreeHosts.generate(spec, dir, "race-" + round);
                installProfile(root, "small", TreeHosts.SMALL_PROFILE);
                installProfile(root, "other", TreeHosts.OTHER_PROFILE);
                TreeSnapshot before = TreeSnapshot.of(root);

                List<String> starts = race(pool, root, List.of("prepare begin", "started begin"));
                TALLY.fault("two hook calls racing");
                TALLY.fault("two hook calls racing"); // and the stops below
                assertEquals(List.of("0", "0", "0", "0"), starts, "round " + round);
                Journal journal = new JournalStore(HostFs.open(root)).load().orElseThrow();
                assertEquals(Set.of("small", "other"), journal.vms().keySet());
                assertEquals(journal.entries().size(), journal.entries().stream().map(JournalEntry::path).distinct().count(),
                        "one entry per path");
                assertRestored(bothApplied, root, "round " + round + ": as if one after the other");

                List<String> stops = race(pool, root, List.of("stopped end", "release end"));
                assertEquals(List.of("0", "0", "0", "0"), stops, "round " + round);
                assertRestored(before, root, "round " + round + ": both reverted");
                assertFalse(journalExists(root));
                deleteTree(root);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Both VMs run {@code ops} in their own thread, released together; the exit codes and messages, small's first. */
    private static List<String> race(ExecutorService pool, Path root, List<String> ops) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<String>>> futures = new ArrayList<>();
        for (String vm : List.of("small", "other")) {
            futures.add(pool.submit(() -> {
                go.await();
                List<String> codes = new ArrayList<>();
                for (String op : ops) {
                    String[] o = op.split(" ");
                    codes.add(hook(root, vm, o[0], o[1]));
                }
                return codes;
            }));
        }
        go.countDown();
        List<String> all = new ArrayList<>();
        for (Future<List<String>> f : futures) {
            all.addAll(f.get(120, TimeUnit.SECONDS));
        }
        return all;
    }

    @Test
    void aStopRevertsEvenWhenTheProfileWasRemovedOrMadeUnsafeMeanwhile() throws Exception {
        for (String how : List.of("removed", "world-writable", "foreign owner")) {
            Path root = TreeHosts.generate(TreeHosts.tiny(HostSpec.Cgroup.V2), dir, "stop-" + how.replace(' ', '-'));
            Path profile = installProfile(root, "tiny", TreeHosts.TINY_PROFILE);
            TreeSnapshot before = TreeSnapshot.of(root);
            assertEquals("0", hook(root, "tiny", "prepare", "begin"));
            assertEquals("0", hook(root, "tiny", "started", "begin"));
            assertTrue(journalExists(root));
            switch (how) {
                case "removed" -> Files.delete(profile);
                case "world-writable" -> Files.setPosixFilePermissions(profile, PosixFilePermissions.fromString("rw-rw-rw-"));
                default -> Files.setAttribute(profile, "unix:uid", 65534);
            }
            TreeSnapshot expected = how.equals("removed") ? before.without("etc/vfio-orchestrator/profiles/tiny.yaml") : before;
            assertEquals("0", hook(root, "tiny", "release", "end"));
            TALLY.fault("the profile removed or made unsafe while the VM ran");
            assertRestored(expected, root, "profile " + how + " while the VM ran");
            assertFalse(journalExists(root));
            String hookLog = Files.readString(root.resolve("var/log/vfio-orchestrator/hook.log"));
            assertTrue(hookLog.contains("tiny release end: " + (how.equals("removed") ? "its profile is gone"
                    : "its profile is refused now (") ), hookLog);
            deleteTree(root);
        }
    }
}
