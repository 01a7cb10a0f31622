package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;

/**
 * {@code measure VM --in-guest}: the guest's figures beside the host-side ones in one report, as text,
 * JSON and PNG, on the synthetic VM of {@link VmSamplerTest} with a {@link FakeGuestAgent}.
 */
class GuestReportTest {
    @TempDir
    Path dir;
    final VmSamplerTest vm = new VmSamplerTest();
    final FakeGuestAgent agent = new FakeGuestAgent();
    /** How many guest-exec calls had been sent when each host-side window ended. */
    final List<Long> execsAtSecond = new ArrayList<>();

    @BeforeEach
    void setUp() {
        vm.dir = dir;
        vm.setUp();
        agent.out = RtTestsOutputTest.resource("cyclictest-2.4-one-thread.txt");
        agent.pollsUntilExit = 1;
    }

    MeasurementReport measure() {
        FakeTicker ticker = new FakeTicker(Instant.parse("2026-01-02T03:04:05Z"), s -> {
            vm.second(s);
            execsAtSecond.add(agent.count("guest-exec"));
        });
        Domain domain = DomainXml.parse(GuestMeasurementTest.WITH_CHANNEL, "test");
        GuestMeasurement guest = new GuestMeasurement("win", () -> domain, () -> agent, new GuestMeasurement.Settings(
                ProbeTool.AUTO, GuestMeasurement.defaultPolicy(), Duration.ZERO), ticker);
        return vm.service(ticker).measureVm("win", Duration.ofSeconds(2), null, guest);
    }

    @Test
    void theGuestsFiguresComeFirstInTheTextAndTheToolRanWhileTheHostWasSampled() {
        MeasurementReport r = measure();
        assertEquals(List.of(1L, 1L), execsAtSecond.subList(0, 2), "the tool was started before the first window");
        assertEquals(List.of(20.0, 20.0), r.vm().vcpus().get(0).waitUsPerSecond(), "the host side is sampled as without");
        String text = TextReport.render(r);
        String expected = """
                VM win (QEMU pid 100): 2 s from 2026-01-02T03:04:05Z, kernel 6.1.0-test-amd64
                VM CPUs watched: 2-3 (from the vCPU threads' Cpus_allowed_list)

                Inside the guest (Debian GNU/Linux 12 (bookworm), kernel 6.1.0-57-amd64): cyclictest for 2 s on its CPUs 0
                Measures: timer wake-up latency of a SCHED_FIFO priority 95 thread
                Policy: fifo (the default inside a guest: a real-time thread, as cyclictest is usually run)
                Command: cyclictest -m -q -p95 -i200 --histogram=10000 --affinity=0 -t 1 -D 2

                vCPU       samples       min       avg       p99     p99.9       max  (µs)
                0             9862     13.00     46.00       116       906      3008

                Histogram, samples per latency range (µs):
                  range               vCPU 0
                """;
        assertTrue(text.startsWith(expected), text);
        assertTrue(text.contains("\nFrom the host:\n\nvCPU thread "), text);
    }

    @Test
    void theJsonHoldsTheGuestBesideTheVmAndReadsBackTheSame() throws Exception {
        MeasurementReport r = measure();
        String json = ReportJson.write(r);
        assertEquals(r, ReportJson.read(json));
        Map<String, Object> m = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(json);
        @SuppressWarnings("unchecked")
        Map<String, Object> metrics = (Map<String, Object>) m.get("metrics");
        assertEquals(List.of("guest_latency_p99_us", "guest_latency_p999_us", "guest_latency_max_us",
                "runqueue_wait_p99_us_per_s"), new ArrayList<>(metrics.keySet()).subList(0, 4));
        assertEquals(116.0, ((Number) metrics.get("guest_latency_p99_us")).doubleValue());
        @SuppressWarnings("unchecked")
        Map<String, Object> guest = (Map<String, Object>) m.get("guest");
        assertEquals("Debian GNU/Linux 12 (bookworm)", guest.get("os"));
        assertEquals("fifo", guest.get("policy"));
    }

    @Test
    void thePlotShowsTheGuestsHistogramAboveTheRunQueueWait() throws Exception {
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(ReportPlot.render(measure()).orElseThrow()));
        assertEquals(ReportPlot.WIDTH, png.getWidth());
        assertEquals(2 * ReportPlot.HEIGHT, png.getHeight(), "two charts");
    }

    @Test
    void aReportWithTheGuestsFiguresIsComparedOnThem() {
        MeasurementReport before = measure();
        MeasurementReport after = new MeasurementReport(before.subject(), before.startedAt().plusSeconds(60),
                before.hostKernel(), before.vm(), null, new GuestResult("", "", scaled(before.guest().latency(), 4)));
        List<String> worse = Comparison.of(before, "then", after).lines();
        assertEquals("worse: p99 latency in the guest (worst CPU): 116 -> 464 µs (+300%) since the report of then",
                worse.get(0));
    }

    private static ProbeResult scaled(ProbeResult p, int factor) {
        List<CpuLatency> cpus = p.perCpu().stream().map(c -> new CpuLatency(c.cpu(), c.samples(), c.minUs(), c.avgUs(),
                c.p99Us() * factor, c.p999Us() * factor, c.maxUs() * factor, c.overflows(), c.histogram())).toList();
        return new ProbeResult(p.tool(), p.cpus(), p.seconds(), p.command(), p.policy(), cpus);
    }
}
