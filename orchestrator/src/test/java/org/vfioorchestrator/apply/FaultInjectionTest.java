package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
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
            RevertReport r = new Reverter(new PlanService(HostFs.open(root)), line -> { }).revert("tiny", false);
            assertTrue(r.wasApplied(), "step " + k + ": the journal names the VM");
            assertTrue(r.complete(), "step " + k + ": " + r);
            assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "step " + k);
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
            RevertReport again = new Reverter(healthy, line -> { }).revert("tiny", false);
            assertTrue(again.wasApplied(), "step " + k + ": the journal still names the VM");
            assertTrue(again.complete(), "step " + k + ": " + again);
            assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "step " + k);
        }
    }
}
