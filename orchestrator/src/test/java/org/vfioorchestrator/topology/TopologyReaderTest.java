package org.vfioorchestrator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.testing.ForwardingHostFs;

/** The reader on small synthetic sysfs trees: the shapes real machines have, and broken files. */
class TopologyReaderTest {
    private static final String CPU = "/sys/devices/system/cpu";

    @TempDir
    Path root;

    /** 4 CPUs, 2 cores x 2 threads numbered like most x86 firmware (siblings 0,2 and 1,3), one L3, one node. */
    @BeforeEach
    void twoCoresTwoThreads() throws IOException {
        write(CPU + "/present", "0-3");
        write(CPU + "/online", "0-3");
        write(CPU + "/possible", "0-3");
        for (int cpu = 0; cpu < 4; cpu++) {
            cpu(cpu, 0, cpu % 2, cpu % 2 == 0 ? "0,2" : "1,3");
            write(CPU + "/cpu" + cpu + "/cache/index0/level", "1");
            write(CPU + "/cpu" + cpu + "/cache/index0/type", "Data");
            write(CPU + "/cpu" + cpu + "/cache/index0/shared_cpu_list", cpu % 2 == 0 ? "0,2" : "1,3");
            write(CPU + "/cpu" + cpu + "/cache/index3/level", "3");
            write(CPU + "/cpu" + cpu + "/cache/index3/type", "Unified");
            write(CPU + "/cpu" + cpu + "/cache/index3/shared_cpu_list", "0-3");
        }
        write("/sys/devices/system/node/node0/cpulist", "0-3");
    }

    private void cpu(int cpu, int pkg, int coreId, String siblings) throws IOException {
        String t = CPU + "/cpu" + cpu + "/topology/";
        write(t + "physical_package_id", Integer.toString(pkg));
        write(t + "die_id", "0");
        write(t + "core_id", Integer.toString(coreId));
        write(t + "thread_siblings_list", siblings);
    }

    private void write(String hostPath, String content) throws IOException {
        Path p = root.resolve(hostPath.substring(1));
        Files.createDirectories(p.getParent());
        Files.writeString(p, content + "\n");
    }

    private void delete(String hostPath) throws IOException {
        Files.delete(root.resolve(hostPath.substring(1)));
    }

    private Topology read() {
        return TopologyReader.read(HostFs.open(root));
    }

    private String failure() {
        OrchestratorException e = assertThrows(OrchestratorException.class, this::read);
        assertEquals(ExitCode.HOST_OR_DATA, e.exitCode());
        assertEquals(1, e.problems().size());
        return e.problems().get(0);
    }

    @Test
    void readsCoresL3AndNode() {
        Topology t = read();
        assertEquals(List.of(CpuSet.of(0, 2), CpuSet.of(1, 3)), t.cores());
        assertEquals(CpuSet.of(1, 3), t.siblingsOf(3));
        assertTrue(t.smt());
        assertEquals(List.of(CpuSet.range(0, 3)), t.l3Groups());
        assertEquals(Map.of(0, CpuSet.range(0, 3)), t.numaNodes());
        assertEquals(Map.of(0, CpuSet.range(0, 3)), t.packages());
        assertEquals(new Cpu(2, 0, 0, 0, 0, 0, CoreType.UNKNOWN), t.cpu(2).orElseThrow());
        assertEquals(Map.of(), t.coreTypes());
        assertEquals(CpuSet.empty(), t.offline());
        assertEquals(4, t.nrCpuIds());
    }

    @Test
    void coreIdsRepeatAcrossPackagesButCoresDoNot() throws IOException {
        cpu(0, 0, 0, "0");
        cpu(1, 1, 0, "1");
        cpu(2, 0, 1, "2");
        cpu(3, 1, 1, "3");
        Topology t = read();
        assertEquals(List.of(CpuSet.of(0), CpuSet.of(1), CpuSet.of(2), CpuSet.of(3)), t.cores());
        assertFalse(t.smt());
        assertEquals(Map.of(0, CpuSet.of(0, 2), 1, CpuSet.of(1, 3)), t.packages());
    }

    @Test
    void bulldozerComputeUnitIsTwoCores() throws IOException {
        // AMD family 15h: both integer cores of a compute unit are listed as siblings, with their own core_id
        cpu(0, 0, 0, "0-1");
        cpu(1, 0, 1, "0-1");
        cpu(2, 0, 2, "2-3");
        cpu(3, 0, 3, "2-3");
        Topology t = read();
        assertEquals(4, t.cores().size());
        assertFalse(t.smt());
    }

    @Test
    void offlineCpuHasNoTopology() throws IOException {
        write(CPU + "/online", "0-2");
        write(CPU + "/possible", "0-7");
        delete(CPU + "/cpu3/topology/core_id");
        Topology t = read();
        assertEquals(CpuSet.of(3), t.offline());
        assertTrue(t.cpu(3).isEmpty());
        assertEquals(CpuSet.of(1), t.siblingsOf(1), "offline sibling 3 is left out");
        assertEquals(CpuSet.empty(), t.siblingsOf(3));
        assertEquals(8, t.nrCpuIds(), "mask width comes from possible");
        assertEquals(Map.of(0, CpuSet.range(0, 2)), t.numaNodes());
    }

    @Test
    void kernelHybridPmusGiveCoreTypes() throws IOException {
        write("/sys/devices/cpu_core/cpus", "0-1");
        write("/sys/devices/cpu_atom/cpus", "2-3");
        cpu(0, 0, 0, "0-1");
        cpu(1, 0, 0, "0-1");
        cpu(2, 0, 8, "2");
        cpu(3, 0, 9, "3");
        Topology t = read();
        assertEquals(Map.of(CoreType.PERFORMANCE, CpuSet.of(0, 1), CoreType.EFFICIENCY, CpuSet.of(2, 3)), t.coreTypes());
        assertEquals(CoreType.EFFICIENCY, t.cpu(3).orElseThrow().type());
    }

    @Test
    void armCpuCapacityGivesCoreTypes() throws IOException {
        write(CPU + "/cpu0/cpu_capacity", "1024");
        write(CPU + "/cpu1/cpu_capacity", "1024");
        write(CPU + "/cpu2/cpu_capacity", "446");
        write(CPU + "/cpu3/cpu_capacity", "446");
        assertEquals(Map.of(CoreType.PERFORMANCE, CpuSet.of(0, 1), CoreType.EFFICIENCY, CpuSet.of(2, 3)), read().coreTypes());
    }

    @Test
    void sameBaseFrequencyEverywhereIsNotHybrid() throws IOException {
        for (int cpu = 0; cpu < 4; cpu++) {
            write(CPU + "/cpu" + cpu + "/cpufreq/base_frequency", "3600000");
        }
        assertEquals(Map.of(), read().coreTypes());
    }

    /**
     * Caches as Intel's eDRAM parts list them (L1d, L1i, L2, L3, then an L4), the L3 at index10 so that
     * its name sorts before index2's: the L3 group is the L3's, not the L4's above it nor that of an
     * instruction cache at level 3; without an L3 there is no group.
     */
    @Test
    void theL3IsFoundAmongMoreCacheLevelsAboveAndBelow() throws IOException {
        for (int cpu = 0; cpu < 4; cpu++) {
            String c = CPU + "/cpu" + cpu + "/cache/index";
            deleteTree(root.resolve(c.substring(1) + 3));
            cache(c + 1, 1, "Instruction", cpu % 2 == 0 ? "0,2" : "1,3");
            cache(c + 2, 2, "Unified", cpu % 2 == 0 ? "0,2" : "1,3");
            cache(c + 10, 3, "Unified", cpu < 2 ? "0-1" : "2-3");
            cache(c + 11, 4, "Unified", "0-3");
        }
        assertEquals(List.of(CpuSet.of(0, 1), CpuSet.of(2, 3)), read().l3Groups());

        for (int cpu = 0; cpu < 4; cpu++) { // the L3 at index9, an instruction cache at level 3 above it
            String c = CPU + "/cpu" + cpu + "/cache/index";
            cache(c + 9, 3, "Unified", cpu < 2 ? "0-1" : "2-3");
            cache(c + 10, 3, "Instruction", "0-3");
        }
        assertEquals(List.of(CpuSet.of(0, 1), CpuSet.of(2, 3)), read().l3Groups());

        for (int cpu = 0; cpu < 4; cpu++) {
            deleteTree(root.resolve((CPU + "/cpu" + cpu + "/cache/index9").substring(1)));
            deleteTree(root.resolve((CPU + "/cpu" + cpu + "/cache/index10").substring(1)));
        }
        assertEquals(List.of(), read().l3Groups());
    }

    @Test
    void theL3AtIndex3IsTakenWithoutListingTheCachesAndAnyOtherIndexIsSearched() throws IOException {
        List<String> listed = new ArrayList<>();
        HostFs counting = new ForwardingHostFs(HostFs.open(root)) {
            @Override
            public List<String> list(String dir) {
                listed.add(dir);
                return host.list(dir);
            }
        };
        for (int cpu = 0; cpu < 4; cpu++) { // an L4 above (Intel's eDRAM)
            cache(CPU + "/cpu" + cpu + "/cache/index4", 4, "Unified", "0-3");
        }
        assertEquals(List.of(CpuSet.of(0, 1, 2, 3)), TopologyReader.read(counting).l3Groups());
        assertTrue(listed.stream().noneMatch(d -> d.endsWith("/cache")), "cache directories listed: " + listed);

        for (int cpu = 0; cpu < 4; cpu++) { // numbered otherwise: an L2 at index3, the L3 above it
            String c = CPU + "/cpu" + cpu + "/cache/index";
            cache(c + 3, 2, "Unified", cpu % 2 == 0 ? "0,2" : "1,3");
            cache(c + 4, 3, "Unified", cpu < 2 ? "0-1" : "2-3");
        }
        assertEquals(List.of(CpuSet.of(0, 1), CpuSet.of(2, 3)), TopologyReader.read(counting).l3Groups());
    }

    private void cache(String dir, int level, String type, String shared) throws IOException {
        write(dir + "/level", Integer.toString(level));
        write(dir + "/type", type);
        write(dir + "/shared_cpu_list", shared);
    }

    @Test
    void noCacheAndNoNumaInformation() throws IOException {
        for (int cpu = 0; cpu < 4; cpu++) {
            deleteTree(root.resolve(("sys/devices/system/cpu/cpu" + cpu + "/cache")));
        }
        deleteTree(root.resolve("sys/devices/system/node"));
        Topology t = read();
        assertEquals(List.of(), t.l3Groups());
        assertEquals(Map.of(), t.numaNodes());
        assertEquals(-1, t.cpu(0).orElseThrow().l3Id());
        assertEquals(-1, t.cpu(0).orElseThrow().numaNode());
    }

    @Test
    void hexMaskFilesWhenListsAreMissing() throws IOException {
        delete(CPU + "/cpu0/topology/thread_siblings_list");
        write(CPU + "/cpu0/topology/thread_siblings", "00000005");
        Topology t = read();
        assertEquals(CpuSet.of(0, 2), t.siblingsOf(0));
    }

    @Test
    void missingTopologyFileNamesIt() throws IOException {
        delete(CPU + "/cpu1/topology/core_id");
        String msg = failure();
        assertTrue(msg.contains("sys/devices/system/cpu/cpu1/topology/core_id: missing"), msg);
    }

    @Test
    void missingSiblingsNamesTheFilesLookedFor() throws IOException {
        delete(CPU + "/cpu2/topology/thread_siblings_list");
        String msg = failure();
        assertTrue(msg.contains("cpu2/topology/thread_siblings_list: missing"), msg);
        assertTrue(msg.contains("core_cpus_list"), msg);
    }

    @Test
    void missingTopologyFolderOfOnlineCpu() throws IOException {
        deleteTree(root.resolve("sys/devices/system/cpu/cpu3/topology"));
        assertTrue(failure().contains("cpu3/topology: missing"));
    }

    @Test
    void malformedSiblingListNamesFileAndToken() throws IOException {
        write(CPU + "/cpu1/topology/thread_siblings_list", "1,x");
        String msg = failure();
        assertTrue(msg.contains("cpu1/topology/thread_siblings_list: not a CPU list: 'x'"), msg);
    }

    @Test
    void malformedNumber() throws IOException {
        write(CPU + "/cpu0/topology/physical_package_id", "zero");
        assertTrue(failure().contains("cpu0/topology/physical_package_id: expected a number, found 'zero'"));
    }

    @Test
    void malformedOnlineList() throws IOException {
        write(CPU + "/online", "0-");
        assertTrue(failure().contains("system/cpu/online: not a CPU list"));
    }

    @Test
    void onlineCpuThatIsNotPresent() throws IOException {
        write(CPU + "/present", "0-2");
        assertTrue(failure().contains("lists CPUs 3 that"));
    }

    @Test
    void siblingListsThatDisagree() throws IOException {
        write(CPU + "/cpu2/topology/thread_siblings_list", "1-2");
        String msg = failure();
        assertTrue(msg.contains("the two must agree"), msg);
    }

    @Test
    void siblingListWithoutTheCpuItself() throws IOException {
        write(CPU + "/cpu0/topology/thread_siblings_list", "2");
        assertTrue(failure().contains("does not list CPU 0 itself"));
    }

    @Test
    void cpuInTwoNumaNodes() throws IOException {
        write("/sys/devices/system/node/node1/cpulist", "3");
        assertTrue(failure().contains("node1/cpulist: lists CPU 3"));
    }

    @Test
    void cacheWithoutSharedList() throws IOException {
        delete(CPU + "/cpu1/cache/index3/shared_cpu_list");
        assertTrue(failure().contains("cpu1/cache/index3/shared_cpu_list: missing (and so is shared_cpu_map)"));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
