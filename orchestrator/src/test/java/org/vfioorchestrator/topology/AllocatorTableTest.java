package org.vfioorchestrator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.doctor.Suggester;
import org.vfioorchestrator.doctor.Suggestion;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;

/**
 * One allocator: on each named topology, {@code suggest} and {@code pin: auto} (with the host
 * keeping what suggest keeps) choose exactly the same CPUs, the ones the table says.
 */
class AllocatorTableTest {
    @TempDir
    static Path tmp;

    private static final Map<String, Path> ROOTS = new HashMap<>();

    /** A named host: a real hwloc capture or a generated tree. */
    static Path host(String name) throws IOException, InterruptedException {
        Path root = ROOTS.get(name);
        if (root != null) {
            return root;
        }
        root = switch (name) {
            case "hwloc: 4 sockets, offline CPUs" -> HwlocFixtures.unpack(HwlocFixtures.OFFLINE_16, tmp);
            case "hwloc: hybrid i7-1370P" -> HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
            case "hwloc: 4 sockets, 8 NUMA nodes" -> HwlocFixtures.unpack(HwlocFixtures.AMD_64, tmp);
            default -> {
                Path r = tmp.resolve("gen-" + ROOTS.size());
                HostTreeGenerator.writeCached(spec(name), r);
                yield r;
            }
        };
        ROOTS.put(name, root);
        return root;
    }

    static HostSpec spec(String name) {
        HostSpec.Builder small = HostSpec.builder().irqs(0).processes(2);
        return switch (name) {
            case "example gaming rig, 2 CCDs" -> HostSpec.gamingRig();
            case "2 NUMA nodes, SMT" -> small.cpus(16).threadsPerCore(2).cpusPerL3(8).numaNodes(2).packages(2).build();
            case "SMT off, 8 cores" -> small.cpus(8).threadsPerCore(1).build();
            // CPU 3's and CPU 12's siblings (11, 4) are left as cores of one thread
            case "offline CPUs, SMT" -> small.cpus(16).threadsPerCore(2).offline(CpuSet.of(3, 12)).build();
            case "2 CPUs, no SMT (the development VM)" -> small.cpus(2).threadsPerCore(1).build();
            case "4-core laptop, SMT" -> small.cpus(8).threadsPerCore(2).build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("hwloc: 4 sockets, offline CPUs", 2, List.of(1, 9), "0,8"),
                Arguments.of("hwloc: 4 sockets, offline CPUs", 4, List.of(3, 11, 7, 15), "0,8"),
                Arguments.of("hwloc: 4 sockets, offline CPUs", 5, List.of(1, 9, 3, 11, 6), "0,8"),
                Arguments.of("hwloc: 4 sockets, offline CPUs", 8, List.of(1, 9, 3, 11, 4, 12, 6, 10), "0,8"),
                Arguments.of("hwloc: hybrid i7-1370P", 4, List.of(2, 3, 4, 5), "0-1"),
                Arguments.of("hwloc: hybrid i7-1370P", 8, List.of(2, 3, 4, 5, 6, 7, 8, 9), "0-1"),
                Arguments.of("hwloc: hybrid i7-1370P", 10, List.of(2, 3, 4, 5, 6, 7, 8, 9, 10, 11), "0-1"),
                Arguments.of("hwloc: hybrid i7-1370P", 3, List.of(2, 3, 4), "0-1"),
                Arguments.of("hwloc: 4 sockets, 8 NUMA nodes", 4, List.of(8, 9, 10, 11), "0-7"),
                Arguments.of("hwloc: 4 sockets, 8 NUMA nodes", 8, List.of(8, 9, 10, 11, 12, 13, 14, 15), "0-7"),
                Arguments.of("hwloc: 4 sockets, 8 NUMA nodes", 16, List.of(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23), "0-7"),
                Arguments.of("example gaming rig, 2 CCDs", 4, List.of(8, 24, 9, 25), "0-1,16-17"),
                Arguments.of("example gaming rig, 2 CCDs", 8, List.of(8, 24, 9, 25, 10, 26, 11, 27), "0-1,16-17"),
                Arguments.of("example gaming rig, 2 CCDs", 12, List.of(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29), "0-1,16-17"),
                Arguments.of("example gaming rig, 2 CCDs", 16, List.of(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), "0-1,16-17"),
                Arguments.of("2 NUMA nodes, SMT", 4, List.of(4, 12, 5, 13), "0,8"),
                Arguments.of("2 NUMA nodes, SMT", 6, List.of(4, 12, 5, 13, 6, 14), "0,8"),
                Arguments.of("2 NUMA nodes, SMT", 8, List.of(4, 12, 5, 13, 6, 14, 7, 15), "0,8"),
                Arguments.of("SMT off, 8 cores", 3, List.of(1, 2, 3), "0"),
                Arguments.of("SMT off, 8 cores", 6, List.of(1, 2, 3, 4, 5, 6), "0"),
                Arguments.of("offline CPUs, SMT", 4, List.of(1, 9, 2, 10), "0,8"),
                Arguments.of("offline CPUs, SMT", 5, List.of(1, 9, 2, 10, 4), "0,8"),
                Arguments.of("offline CPUs, SMT", 7, List.of(1, 9, 2, 10, 4, 5, 13), "0,8"),
                Arguments.of("2 CPUs, no SMT (the development VM)", 1, List.of(1), "0"),
                Arguments.of("4-core laptop, SMT", 2, List.of(1, 5), "0,4"),
                Arguments.of("4-core laptop, SMT", 3, List.of(1, 5, 2), "0,4"),
                Arguments.of("4-core laptop, SMT", 6, List.of(1, 5, 2, 6, 3, 7), "0,4")
        );
    }

    @ParameterizedTest(name = "{0}, {1} vCPUs")
    @MethodSource("table")
    void suggestAndPinAutoChooseTheSame(String name, int vcpus, List<Integer> pins, String hostKeeps) throws Exception {
        HostFs fs = HostFs.open(host(name));
        Topology t = TopologyReader.read(fs);
        Suggestion s = Suggester.suggest(t, DomainXml.parse("<domain type='kvm'><name>vm</name><vcpu>" + vcpus
                + "</vcpu></domain>", "vm.xml"), Optional.empty(), false);
        CpuSet kept = CpuAllocator.defaultHostCores(t).stream().reduce(CpuSet.empty(), CpuSet::union);
        Profile auto = new ProfileLoader(HostFacts.read(fs)).parse(("host_cpus: " + kept + "\nvcpus: {pin: auto, count: "
                + vcpus + "}\n").getBytes(StandardCharsets.UTF_8), "vm.yaml", "vm");
        assertEquals(pins, s.vcpuPins(), "suggest");
        assertEquals(pins, auto.vcpuPins(), "pin: auto with host_cpus: " + kept);
        assertEquals(hostKeeps, kept.toString());
    }
}
