package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.topology.HwlocFixtures;

/** {@code topology} through {@link Main#run}, on the real captures. */
class TopologyCommandTest {

    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void amdOutline() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.AMD_64, tmp);
        Result r = run("topology", "--host-root", host.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.outLines();
        assertEquals("64 CPUs online (64 cores x 1 thread), 4 packages, 8 L3 groups, 8 NUMA nodes", lines.get(0));
        assertEquals("package 0: cpus 0-15", lines.get(1));
        assertEquals("  L3 group 0: cpus 0-7", lines.get(2));
        assertEquals("    core 0: cpus 0", lines.get(3));
        assertTrue(lines.contains("  L3 group 7: cpus 56-63"), r.out());
        assertTrue(lines.contains("NUMA node 7: cpus 56-63"), r.out());
        assertEquals(64, lines.stream().filter(l -> l.startsWith("    core ")).count());
    }

    @Test
    void hybridShowsCoreTypes() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        Result r = run("topology", "--host-root", host.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.outLines();
        assertEquals("20 CPUs online (14 cores: 6 x 2 threads, 8 x 1 thread), 1 package, 1 L3 group, 1 NUMA node", lines.get(0));
        assertTrue(lines.contains("    core 0: cpus 0-1 (performance)"), r.out());
        assertTrue(lines.contains("    core 13: cpus 19 (efficiency)"), r.out());
        assertTrue(lines.contains("core types: performance cpus 0-11, efficiency cpus 12-19"), r.out());
    }

    @Test
    void offlineCpusListed() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.OFFLINE_16, tmp);
        Result r = run("topology", "--host-root", host.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.outLines().get(0).startsWith("12 CPUs online (7 cores: 5 x 2 threads, 2 x 1 thread), 4 offline, 4 packages"), r.out());
        assertTrue(r.outLines().contains("offline: cpus 2,5,13-14"), r.out());
    }

    @Test
    void json() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        Result r = run("topology", "--json", "--host-root", host.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> m = JSON.std.mapFrom(r.out());
        assertEquals("0-19", m.get("online"));
        assertEquals("", m.get("offline"));
        assertEquals(20, m.get("nrCpuIds"));
        assertEquals(true, m.get("smt"));
        assertEquals(14, ((List<?>) m.get("cores")).size());
        assertEquals(Map.of("performance", "0-11", "efficiency", "12-19"), m.get("coreTypes"));
        assertEquals(20, ((List<?>) m.get("cpus")).size());
        Map<?, ?> cpu12 = (Map<?, ?>) ((List<?>) m.get("cpus")).get(12);
        assertEquals("efficiency", cpu12.get("type"));
        assertEquals(6, cpu12.get("core"));
    }

    @Test
    void badHostRootIsOneLineAndExitOne() {
        Result r = run("topology", "--host-root", tmp.resolve("nowhere").toString());
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("--host-root") && r.err().contains("nowhere"), r.err());
    }

    @Test
    void brokenTreeIsOneLineNamingTheFile() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.AMD_64, tmp);
        java.nio.file.Files.delete(host.resolve("sys/devices/system/cpu/cpu5/topology/core_id"));
        Result r = run("topology", "--host-root", host.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cpu5/topology/core_id: missing"), r.err());
    }
}
