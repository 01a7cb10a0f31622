package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;

/** The argument arrays the probes run rt-tests with, decided from what its --help offers (CommandRunner as a Mockito double). */
class RtTestsProbeTest {
    @TempDir
    Path root;

    static final ProbePolicy FIFO = ProbePolicy.fifo(95, "--policy fifo");
    static final ProbePolicy OTHER = ProbePolicy.other("--policy other");

    final CommandRunner runner = mock(CommandRunner.class);
    RtTestsProbe probe;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(root.resolve("sys/devices/system/cpu"));
        Files.writeString(root.resolve("sys/devices/system/cpu/online"), "0-3\n");
        probe = new RtTestsProbe(HostFs.open(root), runner);
    }

    static CommandRunner.Result ok(String stdout) {
        return new CommandRunner.Result(0, stdout, "");
    }

    @Test
    void cyclictestWithoutJsonReadsItsHistogramAndKeepsItsMainThreadOffTheProbedCpus() {
        List<String> argv = List.of("/usr/bin/cyclictest", "-m", "-q", "-p95", "-i200", "--histogram=10000",
                "--affinity=0-1", "-t", "2", "-D", "10", "--mainaffinity=2-3");
        when(runner.run(eq(List.of("/usr/bin/cyclictest", "--help")), any())).thenReturn(ok("--mainaffinity=CPUSET\n"));
        when(runner.run(eq(argv), any())).thenReturn(ok(RtTestsOutputTest.resource("cyclictest-2.4-histogram.txt")));

        ProbeResult r = probe.cyclictest("/usr/bin/cyclictest", CpuSet.of(0, 1), 10, FIFO);

        verify(runner).run(argv, Duration.ofSeconds(70));
        assertEquals("cyclictest -m -q -p95 -i200 --histogram=10000 --affinity=0-1 -t 2 -D 10 --mainaffinity=2-3", r.command());
        assertEquals(2, r.perCpu().size(), "one result per probed CPU");
    }

    @Test
    void oslatGetsFinerBucketsWhereItOffersThem() {
        List<String> argv = List.of("/usr/bin/oslat", "--cpu-list", "2-3", "--cpu-main-thread", "0", "-D", "5",
                "--bucket-size", "1024", "--zero-omit");
        when(runner.run(eq(List.of("/usr/bin/oslat", "--help")), any())).thenReturn(ok("--bucket-size\n--zero-omit\n"));
        when(runner.run(eq(argv), any())).thenReturn(ok(RtTestsOutputTest.resource("oslat-2.4-zero-omit.txt")));

        ProbeResult r = probe.oslat("/usr/bin/oslat", CpuSet.of(2, 3), 5, OTHER);

        assertEquals("oslat --cpu-list 2-3 --cpu-main-thread 0 -D 5 --bucket-size 1024 --zero-omit", r.command());
    }

    @Test
    void aFailedRunNamesItsLastLineAndWhatToTry() {
        when(runner.run(eq(List.of("/usr/bin/oslat", "--help")), any())).thenReturn(ok(""));
        when(runner.run(eq(List.of("/usr/bin/oslat", "--cpu-list", "1", "--cpu-main-thread", "0", "-D", "5")), any()))
                .thenReturn(new CommandRunner.Result(1, "", "starting\nmlockall failed: Operation not permitted\n"));
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> probe.oslat("/usr/bin/oslat", CpuSet.of(1), 5, OTHER));
        assertEquals("oslat failed (exit 1): mlockall failed: Operation not permitted; it needs root for SCHED_FIFO and"
                + " mlockall, or try --tool java", e.getMessage());
    }

    @Test
    void aSchedOtherCyclictestAsksForPolicyOtherInsteadOfAPriority() {
        List<String> argv = List.of("/usr/bin/cyclictest", "-m", "-q", "--policy=other", "-i200", "--histogram=10000",
                "--affinity=1", "-t", "1", "-D", "5");
        when(runner.run(eq(List.of("/usr/bin/cyclictest", "--help")), any())).thenReturn(ok(""));
        when(runner.run(eq(argv), any())).thenReturn(ok(RtTestsOutputTest.resource("cyclictest-2.4-histogram.txt")));

        ProbeResult r = probe.cyclictest("/usr/bin/cyclictest", CpuSet.of(1), 5, OTHER);

        verify(runner).run(argv, Duration.ofSeconds(65));
        assertEquals("timer wake-up latency of a SCHED_OTHER thread", r.meaning());
        assertEquals(OTHER, r.policy());
    }

    @Test
    void aSchedFifoOslatGetsItsPriority() {
        List<String> argv = List.of("/usr/bin/oslat", "--cpu-list", "2", "--cpu-main-thread", "0", "-D", "5",
                "--rtprio", "40");
        when(runner.run(eq(List.of("/usr/bin/oslat", "--help")), any())).thenReturn(ok(""));
        when(runner.run(eq(argv), any())).thenReturn(ok(RtTestsOutputTest.resource("oslat-2.4-zero-omit.txt")));

        ProbeResult r = probe.oslat("/usr/bin/oslat", CpuSet.of(2), 5, ProbePolicy.fifo(40, "win's <vcpusched>"));

        assertEquals("oslat --cpu-list 2 --cpu-main-thread 0 -D 5 --rtprio 40", r.command());
        assertEquals("longest gaps seen by a SCHED_FIFO priority 40 busy loop (time the CPU was taken away)", r.meaning());
    }
}
