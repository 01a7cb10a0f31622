package org.vfioorchestrator.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.topology.HwlocFixtures;
import org.vfioorchestrator.topology.CoreType;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;

/** suggest on the three real captures: the proposal must obey the placement rules on each. */
class SuggestTest {
    @TempDir
    Path tmp;

    static Domain vm(int vcpus) {
        return DomainXml.parse("<domain type='kvm'><name>win11</name><vcpu>" + vcpus + "</vcpu><iothreads>1</iothreads>"
                + "</domain>", "win11.xml");
    }

    /** The rules every suggestion keeps, whatever the host. */
    static void assertRules(Topology l, Suggestion s, int vcpus, boolean mixed) {
        CpuSet vm = s.vmCpus();
        assertEquals(vcpus, s.vcpuPins().size());
        assertEquals(vcpus, vm.size(), "each vCPU on its own CPU");
        assertEquals(l.online(), vm.union(s.hostCpus()), "every online CPU is the VM's or the host's");
        assertFalse(vm.intersects(s.hostCpus()));
        assertTrue(l.cores().get(0).isSubsetOf(s.hostCpus()), "the host keeps the first core, all its siblings");
        assertTrue(s.emulatorCpus().isSubsetOf(s.hostCpus()) && !s.emulatorCpus().isEmpty());
        assertTrue(s.iothreadCpus().isSubsetOf(s.hostCpus()) && !s.iothreadCpus().isEmpty());
        if (l.hybrid() && !mixed) {
            TreeSet<CoreType> kinds = new TreeSet<>();
            vm.stream().forEach(c -> l.coreTypeOf(c).ifPresent(kinds::add));
            assertEquals(1, kinds.size(), "P- and E-cores are not mixed: " + kinds);
        }
        // whole cores: at most one VM core is shared with the host, and only when the sizes force it
        long partial = l.cores().stream().filter(c -> c.intersects(vm) && !c.isSubsetOf(vm)).count();
        assertTrue(partial <= (vcpus % 2), "whole cores only: " + vm);
        assertEquals(vcpus, s.guestTopology().total());
    }

    static Topology capture(String name, Path tmp) throws Exception {
        return TopologyReader.read(HostFs.open(HwlocFixtures.unpack(name, tmp)));
    }

    @ParameterizedTest
    @CsvSource({"16em64t-4s2c2t-offlines, 4", "16em64t-4s2c2t-offlines, 8", "16em64t-4s2c2t-offlines, 5",
        "20em64t-hybrid-1p6c2t+2ca4co1t, 8", "20em64t-hybrid-1p6c2t+2ca4co1t, 10", "20em64t-hybrid-1p6c2t+2ca4co1t, 4",
        "64amd64-4s2n4ca2co, 8", "64amd64-4s2n4ca2co, 16", "64amd64-4s2n4ca2co, 4"})
    void obeysTheRulesOnEachCapture(String name, int vcpus) throws Exception {
        Topology l = capture(name, tmp);
        Suggestion s = Suggester.suggest(l, vm(vcpus), Optional.empty(), false);
        assertRules(l, s, vcpus, false);
        // one L3 group (else one NUMA node) whenever one can hold the VM besides the host's core
        CpuSet kept = l.cores().get(0);
        boolean groupFits = l.l3GroupsOrPackages().stream().anyMatch(g -> g.difference(kept).size() >= vcpus);
        boolean nodeFits = l.numaNodes().values().stream().anyMatch(g -> g.difference(kept).size() >= vcpus);
        if (groupFits) {
            assertEquals(1, l.l3GroupsTouched(s.vmCpus()).size(), "fits in one L3 group: " + s.vmCpus());
        }
        if (nodeFits) {
            assertEquals(1, l.nodesTouched(s.vmCpus()).size(), "one NUMA node: " + s.vmCpus());
        }
    }

    @Test
    void hybridTakesPerformanceCoresAsSiblingPairs() throws Exception {
        Topology l = capture(HwlocFixtures.HYBRID_20, tmp);
        Suggestion s = Suggester.suggest(l, vm(8), Optional.empty(), false);
        assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9), s.vcpuPins());
        assertEquals(CpuSet.of(0, 1), s.emulatorCpus());
        assertEquals(2, s.guestTopology().threads());
        assertTrue(s.vmCpus().isSubsetOf(l.coreTypes().get(CoreType.PERFORMANCE)));

        // 12 vCPUs do not fit on the 5 P-cores left: clear error unless mixing is allowed
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> Suggester.suggest(l, vm(12), Optional.empty(), false));
        assertTrue(e.getMessage().contains("win11 has 12 vCPUs, but at most 10 fit"), e.getMessage());
        assertTrue(e.getMessage().contains("--allow-mixed-cores"), e.getMessage());
        assertRules(l, Suggester.suggest(l, vm(12), Optional.empty(), true), 12, true);
    }

    @Test
    void bigHostKeepsOneCorePerEightAndFollowsTheGpu() throws Exception {
        Topology l = capture(HwlocFixtures.AMD_64, tmp);
        Suggestion s = Suggester.suggest(l, vm(8), Optional.of(5), false);
        assertEquals(CpuSet.range(0, 7).union(s.hostCpus()), s.hostCpus(), "the first 8 of 64 CPUs stay with the host");
        assertEquals(List.of(5), List.copyOf(l.nodesTouched(s.vmCpus())), "the VM sits on the GPU's node");
        assertRules(l, s, 8, false);
    }

    @Test
    void bundledGamingRigGetsTheCcdTheHostDoesNotUse() throws Exception {
        Path root = tmp.resolve("rig");
        org.vfioorchestrator.testing.HostTreeGenerator.generate(org.vfioorchestrator.testing.HostSpec.gamingRig(), root);
        Topology l = TopologyReader.read(HostFs.open(root));
        Suggestion s = Suggester.suggest(l, vm(12), Optional.empty(), false);
        assertRules(l, s, 12, false);
        assertEquals(List.of(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29), s.vcpuPins());
        assertFalse(l.l3GroupsTouched(CpuSet.of(0)).get(0).intersects(s.vmCpus()), "the host's first core has its L3 to itself");
    }

    @Test
    void tooManyVcpusSaysHowManyFit() throws Exception {
        Topology l = capture(HwlocFixtures.OFFLINE_16, tmp);
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> Suggester.suggest(l, vm(16), Optional.empty(), false));
        assertTrue(e.getMessage().contains("win11 has 16 vCPUs, but at most 10 fit"), e.getMessage());
        assertTrue(e.getMessage().contains("<vcpu placement='static'>10</vcpu>"), e.getMessage());
    }

    @Test
    void theYamlLoadsBackThroughTheProfileLoader() throws Exception {
        Path root = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        HostFs fs = HostFs.open(root);
        Topology l = TopologyReader.read(fs);
        Domain d = vm(8);
        Suggestion s = Suggester.suggest(l, d, Optional.empty(), false);
        String yaml = Suggester.yaml(s, "test", HostFacts.read(fs));
        assertTrue(yaml.contains("also: []") && yaml.contains("governor: performance"), yaml);
        Profile p = new ProfileLoader(HostFacts.read(fs)).parse(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "win11.yaml", "win11");
        assertEquals(s.vcpuPins(), p.vcpuPins());
        assertEquals(s.hostCpus(), p.hostCpus());
        assertEquals(s.emulatorCpus(), p.emulatorCpus());
        assertEquals(s.iothreadCpus(), p.iothreadCpus());
        String xml = Suggester.domainXml(s, d);
        assertTrue(xml.contains("<vcpupin vcpu='7' cpuset='9'/>") && xml.contains("<iothreadpin iothread='1' cpuset='0-1'/>")
                && xml.contains("threads='2'"), xml);
    }
}
