package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.testing.FaultyHostFs;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.RefusingHostFs;
import org.vfioorchestrator.testing.Tally;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * For every step k of a realistic apply, on cgroup v1 and v2 trees: a write
 * that fails at k leaves the tree byte-identical (rolled back); a process that
 * dies before k leaves a journal from which revert restores it byte-identical.
 */
class FaultInjectionTest {
    static final Tally TALLY = new Tally("FaultInjectionTest");

    @TempDir
    Path dir;

    @AfterAll
    static void report() {
        TALLY.print();
    }


    /** How many kernel changes a clean apply makes on a fresh tree. */
    private int stepsOfACleanApply(HostSpec spec) throws Exception {
        Path root = TreeHosts.generate(spec, dir, "count");
        FaultyHostFs counting = new FaultyHostFs(HostFs.open(root), Integer.MAX_VALUE, FaultyHostFs.Mode.FAIL, Errno.EIO);
        PlanService plans = new PlanService(counting);
        new Applier(plans, line -> { }).apply(TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE), true);
        return counting.count();
    }

    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aWriteFailingAtAnyStepIsRolledBackCompletely(HostSpec.Cgroup cgroup) throws Exception {
        HostSpec spec = TreeHosts.tiny(cgroup);
        int steps = stepsOfACleanApply(spec);
        assertTrue(steps >= 15, "a realistic plan: " + steps + " steps");
        // each step must leave the tree as it was, so one tree serves every step (a failure stops the loop)
        Path root = TreeHosts.generate(spec, dir, "fail");
        TreeSnapshot before = TreeSnapshot.of(root);
        for (int k = 1; k <= steps; k++) {
            TALLY.fault("a kernel write fails at step k of an apply");
            FaultyHostFs faulty = new FaultyHostFs(HostFs.open(root), k, FaultyHostFs.Mode.FAIL, Errno.EACCES);
            PlanService plans = new PlanService(faulty);
            var profile = TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE);
            int step = k;
            OrchestratorException e = assertThrows(OrchestratorException.class,
                    () -> new Applier(plans, line -> { }).apply(profile, true), "step " + k);
            assertEquals(ExitCode.HOST_OR_DATA, e.exitCode());
            assertTrue(e.getMessage().contains("Nothing was changed"), "step " + step + ": " + e.getMessage());
            assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "step " + k);
            assertFalse(Files.exists(faulty.resolve(JournalStore.JOURNAL)), "step " + k + ": no journal left behind");
        }
    }

    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aProcessKilledBeforeAnyStepIsUndoneByRevert(HostSpec.Cgroup cgroup) throws Exception {
        HostSpec spec = TreeHosts.tiny(cgroup);
        int steps = stepsOfACleanApply(spec);
        Path root = TreeHosts.generate(spec, dir, "crash");
        TreeSnapshot before = TreeSnapshot.of(root);
        for (int k = 1; k <= steps + 1; k++) {
            TALLY.fault("the process dies before step k of an apply");
            FaultyHostFs dying = new FaultyHostFs(HostFs.open(root), k, FaultyHostFs.Mode.CRASH, Errno.OTHER);
            PlanService plans = new PlanService(dying);
            var profile = TreeHosts.profile(plans, dir, "tiny", TreeHosts.TINY_PROFILE);
            if (k <= steps) {
                assertThrows(FaultyHostFs.Crash.class, () -> new Applier(plans, line -> { }).apply(profile, true));
            } else {
                new Applier(plans, line -> { }).apply(profile, true); // the whole apply, then revert
            }
            // a new process, on the real (non-faulty) host, finds the journal and restores
            assertTrue(assertRevertRestores(root, before, "step " + k).wasApplied(), "step " + k + ": the journal names the VM");
        }
    }

    /**
     * A second VM starting narrows what the first VM left to the host (the host cpuset, IRQs and
     * workqueues move from CPUs 0,3,4,7 to 0,4): entries both VMs share. The process dies before
     * any step of that second start; then its revert must find no drift (each shared value is the
     * first VM's or the second's, both ours), leave the first VM exactly as it was, and the first
     * VM's revert must then restore the host byte for byte, again without drift.
     */
    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aSecondVmKilledBeforeAnyStepRevertsWithoutDriftAndTheFirstStaysAsItWas(HostSpec.Cgroup cgroup) throws Exception {
        HostSpec spec = TreeHosts.small(cgroup);
        Path root = TreeHosts.generate(spec, dir, "crash-second");
        TreeSnapshot pristine = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, line -> { });
        TreeSnapshot firstApplied = TreeSnapshot.of(root);

        FaultyHostFs counting = new FaultyHostFs(HostFs.open(root), Integer.MAX_VALUE, FaultyHostFs.Mode.FAIL, Errno.EIO);
        PlanService countingPlans = new PlanService(counting);
        new Applier(countingPlans, line -> { }).apply(TreeHosts.profile(countingPlans, dir, "other", TreeHosts.OTHER_PROFILE), true);
        int steps = counting.count();
        assertTrue(steps >= 8, "the second start changes shared entries too: " + steps + " steps");
        assertTrue(new Reverter(healthy, line -> { }).revert("other", false).complete());
        assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "a clean second start and stop");
        assertTrue(new Reverter(healthy, line -> { }).revert("small", false).complete());

        for (int k = 1; k <= steps; k++) { // one tree for all: each k must restore it
            TreeHosts.applyWideHostSmall(healthy, dir, line -> { });
            TALLY.fault("the process dies before step k of a second VM's start");
            FaultyHostFs dying = new FaultyHostFs(HostFs.open(root), k, FaultyHostFs.Mode.CRASH, Errno.OTHER);
            PlanService plans = new PlanService(dying);
            var profile = TreeHosts.profile(plans, dir, "other", TreeHosts.OTHER_PROFILE);
            assertThrows(FaultyHostFs.Crash.class, () -> new Applier(plans, line -> { }).apply(profile, true));
            RevertReport r = new Reverter(healthy, line -> { }).revert("other", false);
            assertTrue(r.wasApplied(), "step " + k + ": the journal names the second VM");
            assertTrue(r.complete(), "step " + k + ": no drift, nothing failed: " + r);
            assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "step " + k);
            RevertReport last = new Reverter(healthy, line -> { }).revert("small", false);
            assertTrue(last.complete(), "step " + k + ": the last VM out, no drift: " + last);
            assertEquals(List.of(), pristine.differences(TreeSnapshot.of(root)), "step " + k + ": the last VM out");
        }
    }

    /**
     * The kernel refuses (EIO) a write to an IRQ the first VM already moved, when a second VM starts
     * (a device that changed its mind, say): the journal keeps the first VM's value for it, so neither
     * revert reports drift and the host comes back byte for byte.
     */
    @Test
    void aSharedIrqRefusedAtASecondStartKeepsTheFirstVmsValue() throws Exception {
        HostSpec spec = TreeHosts.small(HostSpec.Cgroup.V2);
        Path root = TreeHosts.generate(spec, dir, "refused-second");
        TreeSnapshot pristine = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, line -> { });
        TreeSnapshot firstApplied = TreeSnapshot.of(root);
        String irq = "/proc/irq/0/smp_affinity_list";
        assertEquals("0,3-4,7", Files.readString(root.resolve(irq.substring(1))).strip(), "the first VM moved it");

        HostFs refusing = new RefusingHostFs(HostFs.open(root), List.of(irq), Errno.EIO);
        PlanService plans = new PlanService(refusing);
        TALLY.fault("the kernel refuses a shared IRQ at a second VM's start");
        ApplyReport report = new Applier(plans, line -> { }).apply(TreeHosts.profile(plans, dir, "other", TreeHosts.OTHER_PROFILE), true);
        assertTrue(report.refused().stream().anyMatch(x -> x.path().equals(irq)), "reported as unmovable: " + report.refused());
        assertEquals("0,3-4,7", Files.readString(root.resolve(irq.substring(1))).strip(), "still the first VM's value");

        RevertReport r = new Reverter(healthy, line -> { }).revert("other", false);
        assertTrue(r.complete(), "no drift: " + r);
        assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "the first VM as it was");
        RevertReport last = new Reverter(healthy, line -> { }).revert("small", false);
        assertTrue(last.complete(), "no drift: " + last);
        assertEquals(List.of(), pristine.differences(TreeSnapshot.of(root)), "the last VM out");
    }

    /**
     * Stopping the second VM restores what only it needed and gives the first VM's settings back
     * (the host's wider share). The process dies before each step of that; `revert` of the same VM
     * again must then finish the job: no drift, the first VM exactly as it was.
     */
    @Test
    void aRevertKilledBeforeAnyStepIsFinishedByTheNextRevert() throws Exception {
        HostSpec spec = TreeHosts.small(HostSpec.Cgroup.V1);
        Path root = TreeHosts.generate(spec, dir, "crash-revert");
        PlanService healthy = new PlanService(HostFs.open(root));
        TreeHosts.applyWideHostSmall(healthy, dir, line -> { });
        TreeSnapshot firstApplied = TreeSnapshot.of(root);

        new Applier(healthy, line -> { }).apply(TreeHosts.profile(healthy, dir, "other", TreeHosts.OTHER_PROFILE), true);
        FaultyHostFs counting = new FaultyHostFs(HostFs.open(root), Integer.MAX_VALUE, FaultyHostFs.Mode.FAIL, Errno.EIO);
        assertTrue(new Reverter(new PlanService(counting), line -> { }).revert("other", false).complete());
        int steps = counting.count();
        assertTrue(steps >= 8, "restores and re-asserts: " + steps + " steps");
        assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "a clean stop of the second VM");

        for (int k = 1; k <= steps; k++) { // one tree for all: each k must end where the first VM left it
            new Applier(healthy, line -> { }).apply(TreeHosts.profile(healthy, dir, "other", TreeHosts.OTHER_PROFILE), true);
            TALLY.fault("the process dies before step k of a second VM's revert");
            PlanService dying = new PlanService(new FaultyHostFs(HostFs.open(root), k, FaultyHostFs.Mode.CRASH, Errno.OTHER));
            assertThrows(FaultyHostFs.Crash.class, () -> new Reverter(dying, line -> { }).revert("other", false));
            RevertReport again = new Reverter(healthy, line -> { }).revert("other", false);
            assertTrue(again.wasApplied(), "step " + k + ": the journal still names the VM being stopped");
            assertTrue(again.complete(), "step " + k + ": " + again);
            assertEquals(List.of(), firstApplied.differences(TreeSnapshot.of(root)), "step " + k);
        }
    }

    /**
     * A revert that dies before each of its steps (a cgroup's cpuset.cpus given its parent's CPUs because the
     * kernel refused '', a value restored, a cgroup removed): the next revert finishes without drift and the tree
     * ends byte for byte as before the apply.
     */
    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aRevertDyingBeforeAnyOfItsStepsIsFinishedByTheNextRevert(HostSpec.Cgroup cgroup) throws Exception {
        Path root = TreeHosts.generate(TreeHosts.tiny(cgroup), dir, "crash-own-revert");
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService healthy = new PlanService(HostFs.open(root));
        new Applier(healthy, line -> { }).apply(TreeHosts.profile(healthy, dir, "tiny", TreeHosts.TINY_PROFILE), true);
        FaultyHostFs counting = new FaultyHostFs(HostFs.open(root), Integer.MAX_VALUE, FaultyHostFs.Mode.FAIL, Errno.EIO);
        assertTrue(new Reverter(new PlanService(counting), line -> { }).revert("tiny", false).complete());
        int steps = counting.count();
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "a clean revert");
        for (int k = 1; k <= steps; k++) { // one tree for all: each k must end where it began
            new Applier(healthy, line -> { }).apply(TreeHosts.profile(healthy, dir, "tiny", TreeHosts.TINY_PROFILE), true);
            TALLY.fault("the process dies before step k of a revert");
            PlanService dying = new PlanService(new FaultyHostFs(HostFs.open(root), k, FaultyHostFs.Mode.CRASH, Errno.OTHER));
            assertThrows(FaultyHostFs.Crash.class, () -> new Reverter(dying, line -> { }).revert("tiny", false), "step " + k);
            assertTrue(assertRevertRestores(root, before, "step " + k).wasApplied(), "step " + k + ": the journal still names the VM");
        }
    }

    /**
     * What a kill at a random moment of an apply leaves, the process killed with SIGKILL from outside (so
     * also in the middle of a kernel write or of the journal's save), at {@code kill.points} seeded moments
     * ({@code -Dkill.points=N -Dkill.seed=S} for more or others): revert then restores the tree byte for
     * byte, with no drift and nothing failed, wherever the kill landed.
     */
    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aProcessKilledAtAnyMomentIsUndoneByRevert(HostSpec.Cgroup cgroup) throws Exception {
        Path root = tinyWithProfile(cgroup, "kill-apply");
        TreeSnapshot before = TreeSnapshot.of(root);
        // the windows the kills are spread over: from the child's start of the apply, and from the journal
        // written ahead (the first change follows) to the apply's end
        CliInAChild clean = CliInAChild.start(root, "apply");
        long changing = clean.awaitJournal();
        long whole = clean.awaitEnd();
        changing = whole - changing;
        assertTrue(revert(root).complete());
        Random random = new Random(Long.getLong("kill.seed", 18) + cgroup.ordinal());
        int points = Integer.getInteger("kill.points", 25);
        for (int i = 0; i < points; i++) { // one tree for all: each kill must be undone
            // most kills while the host changes; every fifth anywhere, the journal's save included
            boolean anywhere = i % 5 == 4;
            long delay = (long) (random.nextDouble() * (anywhere ? whole : changing) * 1.1);
            TALLY.fault("SIGKILL at a random moment of an apply (another process)");
            CliInAChild child = CliInAChild.start(root, "apply");
            if (!anywhere) {
                child.awaitJournal();
            }
            TALLY.add("apply killed " + child.killAfter(delay));
            assertRevertRestores(root, before, "kill " + i + " after " + delay / 1000 + " us of " + (anywhere ? "the apply" : "its changes"));
        }
    }

    /**
     * The same for a revert killed at a random moment (a cgroup removed, a value restored, the journal's last
     * save): the next revert finishes the job, no drift, the tree byte for byte as before the apply.
     */
    @ParameterizedTest
    @EnumSource(HostSpec.Cgroup.class)
    void aRevertKilledAtAnyMomentIsFinishedByTheNextRevert(HostSpec.Cgroup cgroup) throws Exception {
        Path root = tinyWithProfile(cgroup, "kill-revert");
        TreeSnapshot before = TreeSnapshot.of(root);
        assertEquals(ExitCode.OK.code(), apply(root));
        long whole = CliInAChild.start(root, "revert").awaitEnd();
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "a clean revert in the child");
        Random random = new Random(Long.getLong("kill.seed", 18) + 100 + cgroup.ordinal());
        int points = Integer.getInteger("kill.points", 25) * 2 / 5;
        for (int i = 0; i < points; i++) {
            assertEquals(ExitCode.OK.code(), apply(root));
            long delay = (long) (random.nextDouble() * whole * 1.1);
            TALLY.fault("SIGKILL at a random moment of a revert (another process)");
            TALLY.add("revert killed " + CliInAChild.start(root, "revert").killAfter(delay));
            assertRevertRestores(root, before, "kill " + i + " after " + delay / 1000 + " us of the revert");
        }
    }

    /** The tiny host with VM tiny's profile installed, as the commands in a child find it. */
    private Path tinyWithProfile(HostSpec.Cgroup cgroup, String name) throws Exception {
        Path root = TreeHosts.generate(TreeHosts.tiny(cgroup), dir, name);
        Path profile = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml");
        Files.createDirectories(profile.getParent());
        Files.writeString(profile, TreeHosts.TINY_PROFILE);
        return root;
    }

    private static int apply(Path root) {
        PrintWriter quiet = new PrintWriter(OutputStream.nullOutputStream());
        return Main.run(quiet, quiet, new String[] {"apply", "tiny", "--host-root", root.toString()});
    }

    private static RevertReport revert(Path root) {
        return new Reverter(new PlanService(HostFs.open(root)), line -> { }).revert("tiny", false);
    }

    /** VM tiny's revert, as a new process runs it on the real (non-faulty) host: complete, and the tree as {@code before}. */
    private static RevertReport assertRevertRestores(Path root, TreeSnapshot before, String where) {
        RevertReport r = revert(root);
        assertTrue(r.complete(), where + ": " + r);
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), where);
        return r;
    }

    /** {@code apply tiny} or {@code revert tiny} on a tree in a JVM of its own, which says when it starts and when it is done. */
    static final class CliInAChild {
        private final Process process;
        private final BufferedReader out;
        private final Path root;
        private final long ready = System.nanoTime();

        private CliInAChild(Process process, BufferedReader out, Path root) {
            this.process = process;
            this.out = out;
            this.root = root;
        }

        public static void main(String[] args) {
            System.out.println("ready");
            System.out.flush();
            PrintWriter quiet = new PrintWriter(OutputStream.nullOutputStream());
            int code = Main.run(quiet, quiet, new String[] {args[1], "tiny", "--host-root", args[0]});
            System.out.println("done " + code);
            System.out.flush();
        }

        static CliInAChild start(Path root, String command) throws IOException {
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(javaBin, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    CliInAChild.class.getName(), root.toString(), command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine(), "the child started");
            return new CliInAChild(p, out, root);
        }

        /** Nanoseconds from "ready" until the journal is there (an apply writes it ahead of the first change). */
        long awaitJournal() {
            Path journal = root.resolve(JournalStore.JOURNAL.substring(1));
            while (!Files.exists(journal)) {
                assertTrue(process.isAlive(), "the child ended without a journal");
                LockSupport.parkNanos(100_000);
            }
            return System.nanoTime() - ready;
        }

        /** Nanoseconds from "ready" to the command's clean end. */
        long awaitEnd() throws Exception {
            String done = out.readLine();
            long took = System.nanoTime() - ready;
            assertTrue(process.waitFor(60, TimeUnit.SECONDS));
            assertEquals("done 0", done, "the command succeeded in the child");
            return took;
        }

        /** SIGKILL {@code nanos} from now; where it landed. */
        String killAfter(long nanos) throws Exception {
            LockSupport.parkNanos(nanos);
            boolean ended = !process.isAlive();
            process.destroyForcibly(); // SIGKILL
            assertTrue(process.waitFor(60, TimeUnit.SECONDS));
            if (ended) {
                return "after it ended";
            }
            return Files.exists(root.resolve(JournalStore.JOURNAL.substring(1))) ? "with a journal" : "without a journal";
        }
    }
}
