package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.testing.Requires;

/** The built-in busy-loop probe, for one second on the real CPU 0. */
class SpinProbeTest {

    @Test
    void oneSecondOnCpu0GivesPlausibleNumbers() {
        Requires.that(Files.exists(Path.of("/proc/thread-self/stat")), "needs Linux /proc");
        HostFs host = HostFs.open(Path.of("/"));
        ProbeResult r = new SpinProbe(host, 100_000_000L).run(CpuSet.of(0), 1, ProbePolicy.other("test"));
        assertEquals("java-spin", r.tool());
        assertEquals(1, r.perCpu().size());
        CpuLatency c = r.perCpu().get(0);
        assertEquals(0, c.cpu());
        assertTrue(c.samples() > 0, "samples " + c.samples());
        assertTrue(c.minUs() >= 0, "min " + c.minUs());
        // ordered as percentiles must be; the mean is not compared with p99: a loaded CPU's few
        // long gaps (milliseconds) can lift the mean above p99 (tens of nanoseconds)
        assertTrue(c.maxUs() >= c.p999Us() && c.p999Us() >= c.p99Us() && c.p99Us() >= c.minUs(), c.toString());
        assertTrue(c.avgUs() >= c.minUs() && c.avgUs() <= c.maxUs(), c.toString());
        long inHistogram = c.histogram().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(c.samples(), inHistogram + c.overflows());
    }

    @Test
    void bucketEdges() {
        assertEquals(0.0, SpinProbe.Loop.bucketUs(0));
        assertEquals(0.01, SpinProbe.Loop.bucketUs(1), 1e-12);
        assertEquals(10.0, SpinProbe.Loop.bucketUs(SpinProbe.FINE_BUCKETS), 1e-12);
        assertEquals(11.0, SpinProbe.Loop.bucketUs(SpinProbe.FINE_BUCKETS + 1), 1e-12);
    }
}
