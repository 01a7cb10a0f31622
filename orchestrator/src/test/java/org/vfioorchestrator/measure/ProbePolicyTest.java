package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;

/** The probe's policy from a domain's {@code <vcpusched>}, and the report that says which it ran with. */
class ProbePolicyTest {
    static ProbePolicy of(String cputune) {
        return ProbePolicy.ofVcpus(DomainXml.parse("<domain type='kvm'><name>win</name><vcpu>4</vcpu>" + cputune
                + "</domain>", "test"));
    }

    @Test
    void aVcpuWithoutVcpuschedIsSchedOther() {
        assertEquals(ProbePolicy.other("win has no <vcpusched>: its vCPU threads run SCHED_OTHER"), of(""));
        assertEquals(ProbePolicy.other("win has no <vcpusched>: its vCPU threads run SCHED_OTHER"),
                of("<cputune><vcpupin vcpu='0' cpuset='2'/></cputune>"));
    }

    @Test
    void aRealTimeVcpuschedIsFifoAtItsHighestPriority() {
        assertEquals(ProbePolicy.fifo(50, "win's <vcpusched scheduler='fifo' priority='50'>"),
                of("<cputune><vcpusched vcpus='0-1' scheduler='fifo' priority='10'/>"
                        + "<vcpusched vcpus='2-3' scheduler='fifo' priority='50'/></cputune>"));
        assertEquals(ProbePolicy.fifo(1, "win's <vcpusched scheduler='rr' priority='1'>"),
                of("<cputune><vcpusched vcpus='0' scheduler='rr' priority='1'/></cputune>"));
    }

    @Test
    void batchAndIdleAreNormalClassPolicies() {
        assertEquals(ProbePolicy.other("win's <vcpusched scheduler='batch'> is a normal-class policy"),
                of("<cputune><vcpusched vcpus='0-3' scheduler='batch'/></cputune>"));
    }

    @Test
    void aPriorityMustGoWithItsPolicy() {
        assertThrows(IllegalArgumentException.class, () -> new ProbePolicy(ProbePolicy.Kind.OTHER, 5, ""));
        assertThrows(IllegalArgumentException.class, () -> new ProbePolicy(ProbePolicy.Kind.FIFO, 0, ""));
    }

    @Test
    void theReportSaysWhichPolicyAndWhyAndKeepsItInTheJson() {
        List<CpuLatency> cpus = RtTestsOutput.parseCyclictestJson(RtTestsOutputTest.resource("cyclictest-2.4.json"));
        MeasurementReport r = new MeasurementReport("probe-cpus-0-1", Instant.EPOCH, "6.1", null,
                new ProbeResult("cyclictest", CpuSet.of(0, 1), 2, "cyclictest --policy=other", of(""), cpus), null);
        String text = TextReport.render(r);
        assertEquals("Measures: timer wake-up latency of a SCHED_OTHER thread\n"
                + "Policy: other (win has no <vcpusched>: its vCPU threads run SCHED_OTHER)\n",
                text.lines().skip(1).limit(2).map(l -> l + "\n").reduce("", String::concat));
        String json = ReportJson.write(r);
        assertEquals(r, ReportJson.read(json));
        assertEquals(true, json.contains("\"policy\" : \"other\""), json);
    }

    @Test
    void aReportFromBeforePoliciesReadsAsWhatItRan() {
        String old = ReportJson.write(new MeasurementReport("probe-cpus-1", Instant.EPOCH, "6.1", null,
                new ProbeResult("cyclictest", CpuSet.of(1), 2, "cyclictest -p95", ProbePolicy.fifo(95, "x"), List.of()), null))
                .replaceAll("(?m)^ *\"(policy|priority|policy_from)\" : .*\n", "");
        assertEquals(ProbePolicy.fifo(95, ""), ReportJson.read(old).probe().policy());
    }

    @Test
    void reportsOfAnotherPolicyAreNotComparedWith(@TempDir Path dir) {
        MeasurementService service = new MeasurementService(HostFs.open(dir), Ticker.system(), Progress.NONE, null);
        MeasurementReport other = ReportStoreTest.probeReport(Instant.parse("2026-01-01T00:00:00Z"));
        MeasurementReport fifo = new MeasurementReport(other.subject(), Instant.parse("2026-01-02T00:00:00Z"),
                other.hostKernel(), null, new ProbeResult("cyclictest", other.probe().cpus(), 2, "",
                        ProbePolicy.fifo(95, "--policy fifo"), other.probe().perCpu()), null);
        service.save(fifo);
        MeasurementReport now = new MeasurementReport(other.subject(), Instant.parse("2026-01-03T00:00:00Z"),
                other.hostKernel(), null, other.probe(), null);
        assertEquals(Optional.empty(), service.previousComparable(now), "a SCHED_FIFO report is no baseline for SCHED_OTHER");
        service.save(other);
        assertEquals("20260101T000000.000Z", service.previousComparable(now).orElseThrow().stamp());
    }
}
