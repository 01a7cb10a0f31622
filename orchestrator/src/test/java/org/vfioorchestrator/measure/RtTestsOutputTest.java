package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Parsers against outputs recorded on a Debian 12 machine with rt-tests 2.4
 * ({@code src/test/resources/measure/}); the newer histogram layout is hand-written
 * from the same counts, as its first line says.
 */
class RtTestsOutputTest {

    static String resource(String name) {
        try (InputStream in = RtTestsOutputTest.class.getResourceAsStream("/measure/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void cyclictest24HistogramGivesTheToolsOwnSummaryAndPercentilesFromTheBuckets() {
        List<CpuLatency> cpus = RtTestsOutput.parseCyclictestHistogram(resource("cyclictest-2.4-histogram.txt"), List.of(0, 1));
        assertEquals(2, cpus.size());
        CpuLatency t0 = cpus.get(0);
        assertEquals(0, t0.cpu());
        assertEquals(9962 + 24, t0.samples()); // "# Total:" plus overflows = cycles in the JSON of the same run
        assertEquals(4, t0.minUs());
        assertEquals(8, t0.avgUs());
        assertEquals(1115, t0.maxUs());
        assertEquals(24, t0.overflows());
        assertEquals(23, t0.p99Us());
        assertEquals(1115, t0.p999Us(), "p99.9 falls among the overflows: reported as the max, an upper bound");
        assertEquals(658, t0.histogram().get(4.0));
        CpuLatency t1 = cpus.get(1);
        assertEquals(9978 + 19, t1.samples());
        assertEquals(38, t1.p99Us());
        assertEquals(267, t1.maxUs());
    }

    @Test
    void threadsMapToTheAffinityListRoundRobin() {
        List<CpuLatency> cpus = RtTestsOutput.parseCyclictestHistogram(resource("cyclictest-2.4-histogram.txt"), List.of(5, 7));
        assertEquals(List.of(5, 7), cpus.stream().map(CpuLatency::cpu).toList());
    }

    @Test
    void newerHistogramWithoutEmptyBucketsOrTotalParsesToTheSameNumbers() {
        List<CpuLatency> old = RtTestsOutput.parseCyclictestHistogram(resource("cyclictest-2.4-histogram.txt"), List.of(0, 1));
        List<CpuLatency> newer = RtTestsOutput.parseCyclictestHistogram(resource("cyclictest-newer-histogram.txt"), List.of(0, 1));
        assertEquals(old, newer);
    }

    @Test
    void cyclictestJsonOfTheSameRunAgreesWithItsHistogram() {
        List<CpuLatency> json = RtTestsOutput.parseCyclictestJson(resource("cyclictest-2.4.json"));
        List<CpuLatency> text = RtTestsOutput.parseCyclictestHistogram(resource("cyclictest-2.4-histogram.txt"), List.of(0, 1));
        assertEquals(2, json.size());
        CpuLatency j0 = json.get(0);
        assertEquals(0, j0.cpu());
        assertEquals(9986, j0.samples()); // "cycles"
        assertEquals(24, j0.overflows());
        assertEquals(8.67, j0.avgUs(), 1e-9); // the JSON has the exact average
        assertEquals(1115, j0.maxUs());
        for (int i = 0; i < 2; i++) {
            assertEquals(text.get(i).histogram(), json.get(i).histogram());
            assertEquals(text.get(i).p99Us(), json.get(i).p99Us());
            assertEquals(text.get(i).p999Us(), json.get(i).p999Us());
        }
        assertEquals(1, json.get(1).cpu());
    }

    @Test
    void oslatTableWithAllBuckets() {
        List<CpuLatency> cpus = RtTestsOutput.parseOslat(resource("oslat-2.4.txt"));
        assertEquals(List.of(0, 1), cpus.stream().map(CpuLatency::cpu).toList());
        CpuLatency c0 = cpus.get(0);
        assertEquals(1, c0.minUs());
        assertEquals(1.001, c0.avgUs(), 1e-9);
        assertEquals(3720, c0.maxUs());
        assertEquals(258, c0.overflows(), "the last row includes the overflows, so it counts as beyond the histogram");
        assertEquals(66852178L, c0.histogram().get(1.0));
        assertEquals(1, c0.p99Us());
        assertEquals(152, cpus.get(1).maxUs());
        assertEquals(230, cpus.get(1).overflows());
    }

    @Test
    void oslatZeroOmitQuietTable() {
        List<CpuLatency> cpus = RtTestsOutput.parseOslat(resource("oslat-2.4-zero-omit.txt"));
        assertEquals(1, cpus.size());
        CpuLatency c = cpus.get(0);
        assertEquals(1, c.cpu());
        assertEquals(72, c.maxUs());
        assertEquals(36, c.overflows());
        assertEquals(34801620L, c.histogram().get(1.0));
        long total = c.histogram().values().stream().mapToLong(Long::longValue).sum() + c.overflows();
        assertEquals(total, c.samples());
    }

    @Test
    void malformedOutputIsAnErrorNotAnEmptyResult() {
        assertThrows(IllegalArgumentException.class, () -> RtTestsOutput.parseCyclictestHistogram("T: 0 ( 123) P:95", List.of()));
        IllegalArgumentException cols = assertThrows(IllegalArgumentException.class,
                () -> RtTestsOutput.parseCyclictestHistogram("# Histogram\n000001 000002 000003\n000002 000004\n", List.of()));
        assertTrue(cols.getMessage().contains("line 3"), cols.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RtTestsOutput.parseCyclictestJson("{\"num_threads\": 1}"));
        assertThrows(IllegalArgumentException.class, () -> RtTestsOutput.parseCyclictestJson("not json"));
        assertThrows(IllegalArgumentException.class, () -> RtTestsOutput.parseOslat("oslat V 2.40\nTest starts...\n"));
    }
}
