package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verifyNoInteractions;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.VmMeasurement.ForeignTask;
import org.vfioorchestrator.measure.VmMeasurement.InterruptSource;
import org.vfioorchestrator.measure.VmMeasurement.Vcpu;
import org.vfioorchestrator.process.CommandRunner;

/**
 * The sampler against a synthetic /proc whose counters advance by known amounts each
 * second: VM "win" (QEMU pid 100) has vCPU 0 (tid 101, on CPU 2) and vCPU 1 (tid 102,
 * on CPU 3); a kworker runs on CPU 2 in seconds 2 and 4; a shell runs on CPU 0 (not the
 * VM's) every second; the NVMe queue IRQ 45 hits CPU 3 300 times a second.
 */
class VmSamplerTest {
    static final long US = 1_000;
    static final long MS = 1_000_000;

    @TempDir
    Path dir;
    ProcTree tree;
    HostFs host;
    /** Sampling reads /proc only: no program runs ({@link #noProgramRan}). */
    final CommandRunner runner = mock(CommandRunner.class);

    @BeforeEach
    void setUp() {
        tree = new ProcTree(dir);
        tree.vm("win", 100);
        tree.thread(100, 100, "qemu-system-x86", 0, "0-1");
        tree.thread(100, 101, "CPU 0/KVM", 2, "2");
        tree.thread(100, 102, "CPU 1/KVM", 3, "3");
        tree.thread(100, 103, "IO iothread1", 1, "0-1");
        tree.thread(200, 200, "kworker/2:1-events", 2, "2");
        tree.thread(300, 300, "bash", 0, "0-3");
        tree.irq("irq:24", "IO-APIC   5-edge      ACPI:Ged");
        tree.irq("irq:45", "IR-PCI-MSIX-0000:01:00.0    3-edge      nvme0q3");
        tree.irq("irq:LOC", "Local timer interrupts");
        tree.irq("softirq:TIMER", "");
        host = HostFs.open(dir);
    }

    @AfterEach
    void noProgramRan() {
        verifyNoInteractions(runner);
    }

    /** What happens on the host in second {@code s} (1-based). */
    void second(int s) {
        tree.advance(101, 990 * MS, s == 3 ? 400 * US : 20 * US, 10, s == 3 ? 8 : 2);
        tree.advance(102, 500 * MS, 5 * US, 5, 1);
        tree.advance(300, 3 * MS, 0, 4, 0);
        if (s == 2 || s == 4) {
            tree.advance(200, 150 * US, 10 * US, 3, 0);
        }
        tree.addIrq("irq:24", 0, 5);
        tree.addIrq("irq:45", 3, 300);
        tree.addIrq("irq:LOC", 2, 1000);
        tree.addIrq("irq:LOC", 3, 250);
        tree.addIrq("softirq:TIMER", 2, s == 3 ? 150 : 100);
    }

    MeasurementService service(FakeTicker ticker) {
        return new MeasurementService(host, ticker, Progress.NONE, runner);
    }

    @Test
    void exactPerSecondRatesAndTheWorstWindow() {
        FakeTicker ticker = new FakeTicker(Instant.parse("2026-01-02T03:04:05Z"), this::second);
        MeasurementReport report = service(ticker).measureVm("win", Duration.ofSeconds(5), null, null);
        VmMeasurement m = report.vm();

        assertEquals(CpuSet.of(2, 3), m.cpus(), "the CPUs the vCPU threads may run on");
        assertEquals(5, m.seconds());
        assertEquals(List.of(), m.notes());

        Vcpu v0 = m.vcpus().get(0);
        assertEquals(101, v0.tid());
        assertEquals(0, v0.index());
        assertEquals(List.of(20.0, 20.0, 400.0, 20.0, 20.0), v0.waitUsPerSecond());
        assertEquals(96.0, v0.avgWaitUsPerSec(), 1e-9);
        assertEquals(400.0, v0.worstWaitUsPerSec(), 1e-9);
        assertEquals(3, v0.worstWindow());
        assertEquals(480.0 / 50, v0.waitUsPerSlice(), 1e-9);
        assertEquals(3.2, v0.avgInvoluntaryPerSec(), 1e-9);
        assertEquals(8, v0.maxInvoluntaryPerSec(), 1e-9);
        assertEquals(99.0, v0.runPercent(), 1e-9);

        Vcpu v1 = m.vcpus().get(1);
        assertEquals(List.of(5.0, 5.0, 5.0, 5.0, 5.0), v1.waitUsPerSecond());
        assertEquals(1, v1.worstWindow(), "ties go to the first window");
        assertEquals(50.0, v1.runPercent(), 1e-9);

        assertEquals(List.of(new ForeignTask(200, 200, "kworker/2:1-events", CpuSet.of(2), 2, 0.3)), m.foreignTasks(),
                "only the kworker ran on CPUs 2-3; the shell on CPU 0 and the idle iothread are not listed");

        InterruptSource nvme = find(m.interrupts(), "irq:45", 3);
        assertEquals("IRQ 45 (nvme0q3)", nvme.label());
        assertEquals(300.0, nvme.avgPerSec(), 1e-9);
        assertEquals(300.0, nvme.maxPerSec(), 1e-9);
        assertEquals(1500, nvme.total());
        InterruptSource timer = find(m.interrupts(), "softirq:TIMER", 2);
        assertEquals("softirq TIMER", timer.label());
        assertEquals(110.0, timer.avgPerSec(), 1e-9);
        assertEquals(150.0, timer.maxPerSec(), 1e-9);
        assertEquals("LOC (Local timer interrupts)", find(m.interrupts(), "irq:LOC", 2).label());
        assertEquals(1000.0, m.interrupts().get(0).avgPerSec(), 1e-9, "busiest first");
        assertTrue(m.interrupts().stream().noneMatch(s -> s.key().equals("irq:24")), "IRQ 24 only hit CPU 0");

        String text = TextReport.render(report);
        assertTrue(text.contains("IRQ 45 (nvme0q3) hit CPU 3 300 times/s"), text);
        assertTrue(text.contains("kworker/2:1-events"), text);
    }

    @Test
    void givenCpusReplaceTheVcpuAffinity() {
        FakeTicker ticker = new FakeTicker(Instant.EPOCH, this::second);
        VmMeasurement m = service(ticker).measureVm("win", Duration.ofSeconds(2), CpuSet.of(0), null).vm();
        assertEquals("--cpus", m.cpusFrom());
        assertEquals(List.of("bash"), m.foreignTasks().stream().map(ForeignTask::comm).toList());
        assertEquals(6.0, m.foreignTasks().get(0).runMs(), 1e-9);
        assertEquals(5.0, find(m.interrupts(), "irq:24", 0).avgPerSec(), 1e-9);
    }

    @Test
    void aTaskThatMovesOntoTheVmsCpusIsCaught() {
        FakeTicker ticker = new FakeTicker(Instant.EPOCH, s -> {
            second(s);
            if (s == 2) {
                tree.moveTo(300, 3);
            }
        });
        VmMeasurement m = service(ticker).measureVm("win", Duration.ofSeconds(3), null, null).vm();
        ForeignTask bash = m.foreignTasks().stream().filter(t -> t.comm().equals("bash")).findFirst().orElseThrow();
        assertEquals(CpuSet.of(3), bash.seenOn());
        assertEquals(2, bash.windows());
    }

    @Test
    void aVmThatStopsMidwayKeepsTheWindowsItHadAndSaysSo() {
        FakeTicker ticker = new FakeTicker(Instant.EPOCH, s -> {
            if (s == 3) {
                tree.removeProcess(100);
            } else {
                second(s);
            }
        });
        VmMeasurement m = service(ticker).measureVm("win", Duration.ofSeconds(5), null, null).vm();
        assertEquals(2, m.seconds());
        assertEquals(List.of(20.0, 20.0), m.vcpus().get(0).waitUsPerSecond());
        assertTrue(m.notes().get(0).contains("stopped after 2 s"), m.notes().toString());
    }

    @Test
    void aVmThatIsNotRunningIsOneClearError() {
        FakeTicker ticker = new FakeTicker(Instant.EPOCH, this::second);
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> service(ticker).measureVm("nope", Duration.ofSeconds(2), null, null));
        assertEquals(List.of("VM nope is not running: no live QEMU behind /run/libvirt/qemu/nope.pid; start it, then measure"),
                e.problems());
        tree.removeProcess(100);
        assertThrows(OrchestratorException.class, () -> service(ticker).measureVm("win", Duration.ofSeconds(2), null, null),
                "a stale PID file is not a running VM");
    }

    @Test
    void allCpusAllowedGetsANote() {
        tree.thread(100, 101, "CPU 0/KVM", 2, "0-3");
        FakeTicker ticker = new FakeTicker(Instant.EPOCH, this::second);
        VmMeasurement m = service(ticker).measureVm("win", Duration.ofSeconds(1), null, null).vm();
        assertEquals(CpuSet.range(0, 3), m.cpus());
        assertFalse(m.notes().isEmpty());
        assertTrue(m.notes().get(0).contains("no CPUs of its own"), m.notes().toString());
    }

    static InterruptSource find(List<InterruptSource> list, String key, int cpu) {
        return list.stream().filter(s -> s.key().equals(key) && s.cpu() == cpu).findFirst()
                .orElseThrow(() -> new AssertionError(key + " on CPU " + cpu + " not in " + list));
    }
}
