package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.ReportStore.StoredReport;

/** Keeping reports under the host root, reading them back, and comparing with the previous one. */
class ReportStoreTest {
    @TempDir
    Path dir;

    static MeasurementReport probeReport(Instant at) {
        List<CpuLatency> cpus = RtTestsOutput.parseCyclictestJson(RtTestsOutputTest.resource("cyclictest-2.4.json"));
        return new MeasurementReport("probe-cpus-0-1", at, "6.1.0-test-amd64", null,
                new ProbeResult("cyclictest", CpuSet.of(0, 1), 2, "cyclictest -m -q", ProbePolicy.other("--policy other"), cpus), null);
    }

    @Test
    void jsonRoundTripsAProbeReport() {
        MeasurementReport r = probeReport(Instant.parse("2026-01-02T03:04:05.678Z"));
        assertEquals(r, ReportJson.read(ReportJson.write(r)));
    }

    @Test
    void savedUnderTheRootNewestFirstAndReadBack() throws IOException {
        HostFs host = HostFs.open(dir);
        ReportStore store = new ReportStore(host);
        MeasurementService service = new MeasurementService(host, Ticker.system(), Progress.NONE, null);
        MeasurementReport older = probeReport(Instant.parse("2026-01-02T03:04:05Z"));
        MeasurementReport newer = probeReport(Instant.parse("2026-02-01T00:00:00Z"));
        service.save(older);
        StoredReport saved = service.save(newer);

        Path reports = dir.resolve("var/lib/vfio-orchestrator/reports/probe-cpus-0-1");
        assertTrue(Files.isRegularFile(reports.resolve("20260201T000000.000Z.json")));
        assertTrue(Files.isRegularFile(reports.resolve("20260201T000000.000Z.txt")));
        assertTrue(Files.size(reports.resolve("20260201T000000.000Z.png")) > 1000);
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(reports)));

        List<StoredReport> list = store.list("probe-cpus-0-1");
        assertEquals(List.of("20260201T000000.000Z", "20260102T030405.000Z"), list.stream().map(StoredReport::stamp).toList());
        assertEquals(saved, list.get(0));
        assertEquals(Instant.parse("2026-02-01T00:00:00Z"), list.get(0).time());
        assertEquals(newer, store.load(list.get(0)));
        assertEquals(List.of(), store.list("never-measured"));
    }

    @Test
    void aDamagedReportIsADataErrorNamingTheFile() throws IOException {
        HostFs host = HostFs.open(dir);
        ReportStore store = new ReportStore(host);
        Path vmDir = dir.resolve("var/lib/vfio-orchestrator/reports/win");
        Files.createDirectories(vmDir);
        Files.writeString(vmDir.resolve("20260101T000000.000Z.json"), "{\"format_version\": 1}");
        StoredReport s = store.list("win").get(0);
        OrchestratorException e = org.junit.jupiter.api.Assertions.assertThrows(OrchestratorException.class, () -> store.load(s));
        assertTrue(e.getMessage().contains("20260101T000000.000Z.json"), e.getMessage());
    }

    @Test
    void measureAndCompareSaysWhichMetricGotWorse() {
        VmSamplerTest setup = new VmSamplerTest();
        setup.dir = dir;
        setup.setUp();
        HostFs host = HostFs.open(dir);
        int[] waitUs = {20};
        java.util.function.IntConsumer load = s -> {
            setup.tree.advance(101, 990 * VmSamplerTest.MS, waitUs[0] * VmSamplerTest.US, 10, 2);
            setup.tree.advance(102, 500 * VmSamplerTest.MS, waitUs[0] * VmSamplerTest.US, 5, 1);
            setup.tree.addIrq("irq:45", 3, 300);
        };
        MeasurementService first = new MeasurementService(host, new FakeTicker(Instant.parse("2026-01-01T00:00:00Z"), load),
                Progress.NONE, null);
        MeasurementService.Outcome baseline = first.measureAndCompare("win", Duration.ofSeconds(5));
        assertEquals(Optional.empty(), baseline.comparison(), "nothing to compare the first report with");

        waitUs[0] = 400; // a kernel update later: the vCPUs wait 20 times longer
        MeasurementService second = new MeasurementService(host, new FakeTicker(Instant.parse("2026-03-01T00:00:00Z"), load),
                Progress.NONE, null);
        MeasurementService.Outcome later = second.measureAndCompare("win", Duration.ofSeconds(5));
        Comparison c = later.comparison().orElseThrow();
        assertEquals("20260101T000000.000Z", c.previousStamp());
        List<String> lines = c.lines();
        assertEquals(2, lines.size(), lines.toString());
        assertEquals("worse: p99 run-queue wait: 20 -> 400 µs/s (+1900%) since the report of 20260101T000000.000Z",
                lines.get(0));
        assertTrue(lines.get(1).startsWith("worse: worst 1 s run-queue wait: 20 -> 400 µs/s"), lines.get(1));
        assertEquals(2, new ReportStore(host).list("win").size());

        MeasurementService third = new MeasurementService(host, new FakeTicker(Instant.parse("2026-04-01T00:00:00Z"), load),
                Progress.NONE, null);
        assertEquals(List.of("no metric got more than 50% worse since the report of 20260301T000000.000Z"),
                third.measureAndCompare("win", Duration.ofSeconds(5)).comparison().orElseThrow().lines());
    }

    @Test
    void smallAbsoluteChangesAreNotAlarms() {
        MeasurementReport a = probeReport(Instant.EPOCH);
        List<CpuLatency> cpus = a.probe().perCpu().stream()
                .map(c -> new CpuLatency(c.cpu(), c.samples(), c.minUs(), c.avgUs(), c.p99Us() + 1, c.p999Us(), c.maxUs(),
                        c.overflows(), c.histogram()))
                .toList();
        MeasurementReport b = new MeasurementReport(a.subject(), Instant.EPOCH.plusSeconds(60), a.hostKernel(), null,
                new ProbeResult("cyclictest", a.probe().cpus(), 2, "", a.probe().policy(), cpus), null);
        assertEquals(List.of(), Comparison.of(a, "x", b).worse());
    }
}
