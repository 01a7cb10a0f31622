package org.vfioorchestrator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;

/** The reader against three real machines, checked against what hwloc's lstopo says about the same captures. */
class TopologyHwlocFixtureTest {

    @TempDir
    Path tmp;

    private Topology read(String name) throws Exception {
        return TopologyReader.read(HostFs.open(HwlocFixtures.unpack(name, tmp)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {HwlocFixtures.AMD_64, HwlocFixtures.HYBRID_20, HwlocFixtures.OFFLINE_16})
    void agreesWithLstopo(String name) throws Exception {
        Lstopo hwloc = Lstopo.parse(HwlocFixtures.expected(name));
        Topology t = read(name);

        assertEquals(hwloc.counts.get("PU"), hwloc.pus().size(), "lstopo parse: PU lines vs depth summary");
        assertEquals(hwloc.pus(), t.online(), "online CPUs = hwloc's PUs");
        assertEquals(hwloc.notRepresented, t.offline(), "offline = hwloc's 'not represented'");
        assertEquals(hwloc.notRepresentedCount, t.offline().size());
        assertEquals(t.present(), t.online().union(t.offline()));

        assertEquals(hwloc.counts.get("Core"), t.cores().size(), "core count");
        assertEquals(hwloc.cores(), new HashSet<>(t.cores()), "cores and their threads");
        assertEquals(hwloc.packages(), t.packages(), "packages by physical id");
        assertEquals(hwloc.counts.get("L3Cache"), t.l3Groups().size(), "L3 group count");
        assertEquals(hwloc.l3Groups(), new HashSet<>(t.l3Groups()), "L3 groups");
        assertEquals(hwloc.numaNodes(), t.numaNodes(), "NUMA nodes");
        assertEquals(hwloc.cores().stream().anyMatch(c -> c.size() > 1), t.smt(), "smt");

        hwloc.coreIds().forEach((pus, coreId) -> pus.stream().forEach(cpu ->
                assertEquals(coreId, t.cpu(cpu).orElseThrow().coreId(), "core_id of cpu " + cpu)));
        assertConsistent(t);
    }

    /** Every Cpu record agrees with the group views. */
    private static void assertConsistent(Topology t) {
        assertEquals(t.online().toList(), t.cpus().stream().map(Cpu::id).toList());
        assertEquals(t.online(), t.cores().stream().reduce(CpuSet.empty(), CpuSet::union), "cores cover online");
        assertEquals(t.online().size(), t.cores().stream().mapToInt(CpuSet::size).sum(), "cores do not overlap");
        assertEquals(t.cores().stream().sorted().toList(), t.cores(), "cores by lowest CPU");
        assertEquals(t.l3Groups().stream().sorted().toList(), t.l3Groups(), "L3 groups by lowest CPU");
        for (Cpu cpu : t.cpus()) {
            assertTrue(t.siblingsOf(cpu.id()).contains(cpu.id()));
            assertTrue(t.packages().get(cpu.packageId()).contains(cpu.id()));
            assertTrue(t.l3Groups().get(cpu.l3Id()).contains(cpu.id()), "l3Id of cpu " + cpu.id());
            assertTrue(t.numaNodes().get(cpu.numaNode()).contains(cpu.id()), "numaNode of cpu " + cpu.id());
            for (int sibling : t.siblingsOf(cpu.id()).toList()) {
                assertEquals(cpu.packageId(), t.cpu(sibling).orElseThrow().packageId());
                assertEquals(cpu.type(), t.cpu(sibling).orElseThrow().type());
            }
        }
        for (int cpu : t.offline().toList()) {
            assertTrue(t.cpu(cpu).isEmpty(), "offline cpu " + cpu + " has no topology");
            assertTrue(t.siblingsOf(cpu).isEmpty());
        }
    }

    @Test
    void amdOpteronFourPackagesEightL3GroupsEightNodes() throws Exception {
        Topology t = read(HwlocFixtures.AMD_64);
        assertEquals(CpuSet.range(0, 63), t.online());
        assertEquals(64, t.nrCpuIds());
        assertEquals(64, t.cores().size(), "Bulldozer: both integer cores of a compute unit count as cores");
        assertFalse(t.smt());
        assertEquals(List.of(0, 1, 2, 3), List.copyOf(t.packages().keySet()));
        assertEquals(8, t.l3Groups().size());
        assertEquals(CpuSet.range(8, 15), t.l3Groups().get(1));
        assertEquals(CpuSet.range(56, 63), t.numaNodes().get(7));
        assertEquals(Map.of(), t.coreTypes(), "not hybrid");
        Cpu cpu9 = t.cpu(9).orElseThrow();
        assertEquals(new Cpu(9, 0, -1, 1, 1, 1, CoreType.UNKNOWN), cpu9, "no die_id in this capture");
    }

    @Test
    void intelHybridPerformanceAndEfficiencyCores() throws Exception {
        Lstopo hwloc = Lstopo.parse(HwlocFixtures.expected(HwlocFixtures.HYBRID_20));
        Topology t = read(HwlocFixtures.HYBRID_20);
        CpuSet pCores = CpuSet.range(0, 11);
        CpuSet eCores = CpuSet.range(12, 19);
        assertEquals(Map.of(CoreType.PERFORMANCE, pCores, CoreType.EFFICIENCY, eCores), t.coreTypes());
        // hwloc's kinds: rank 0 is the energy-efficient one
        assertEquals(eCores, hwloc.cpuKinds.get(0));
        assertEquals(pCores, hwloc.cpuKinds.get(1));
        for (Cpu cpu : t.cpus()) {
            assertEquals(pCores.contains(cpu.id()) ? CoreType.PERFORMANCE : CoreType.EFFICIENCY, cpu.type(), "cpu " + cpu.id());
            assertEquals(0, cpu.dieId());
        }
        assertTrue(t.smt());
        assertEquals(CpuSet.of(0, 1), t.siblingsOf(1));
        assertEquals(CpuSet.of(12), t.siblingsOf(12));
        assertEquals(14, t.cores().size());
        assertEquals(List.of(CpuSet.range(0, 19)), t.l3Groups());
        assertEquals(20, t.nrCpuIds());
    }

    @Test
    void oldKernelWithOfflineCpus() throws Exception {
        Topology t = read(HwlocFixtures.OFFLINE_16);
        // this capture predates the present/online/possible files: present is the cpuN folders,
        // online those without "0" in cpuN/online
        assertEquals(CpuSet.range(0, 15), t.present());
        assertEquals(CpuSet.of(2, 5, 13, 14), t.offline());
        assertEquals(16, t.nrCpuIds());
        assertTrue(t.cpu(2).isEmpty());
        assertEquals(CpuSet.of(0, 8), t.siblingsOf(8));
        assertEquals(CpuSet.of(6), t.siblingsOf(6), "sibling 14 is offline");
        Set<Integer> packageIds = t.packages().keySet();
        assertEquals(Set.of(0, 1, 2, 3), packageIds);
        assertEquals(CpuSet.of(3, 7, 11, 15), t.packages().get(3));
        assertEquals(Map.of(0, t.online()), t.numaNodes(), "node0/cpumap lists offline CPUs too; only online count");
        assertEquals(Map.of(), t.coreTypes());
    }
}
