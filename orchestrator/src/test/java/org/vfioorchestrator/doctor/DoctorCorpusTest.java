package org.vfioorchestrator.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.topology.TopologyReader;

/** The example domains under examples/domains/doctor/ and what doctor must find in each, on a clean 8-core host. */
class DoctorCorpusTest {
    @TempDir
    Path root;
    TestHost host;

    @BeforeEach
    void host() {
        host = TestHost.smt(root, 8)
                .sparse("/var/lib/libvirt/images/sparse.img", 64L << 20)
                .full("/var/lib/libvirt/images/data.img", 1 << 16);
    }

    static Domain example(String name) {
        return DomainXml.read(Path.of(System.getProperty("repo.root", "."), "examples", "domains", "doctor", name));
    }

    List<String> findings(String name) {
        var fs = host.fs();
        var in = new DoctorInput(example(name), Optional.empty(), fs, Optional.of(TopologyReader.read(fs)));
        return Doctor.examine(in).stream().map(f -> f.severity().label() + " " + f.id()).toList();
    }

    @Test
    void typicalGamingVmLacksAnIothreadAndUsesThePageCache() {
        assertEquals(List.of("warning disk.page-cache", "warning iothreads.none"), findings("win11-gaming.xml"));
    }

    @Test
    void legacyIdeVm() {
        assertEquals(List.of("warning disk.emulated-bus", "warning disk.page-cache", "warning disk.emulated-bus",
                "warning disk.block-not-direct", "warning cputune.vcpus-unpinned"), findings("ide-default-cache.xml"));
    }

    @Test
    void sparseImagesWithNativeIo() {
        assertEquals(List.of("error disk.native-on-sparse", "error disk.native-without-direct"),
                findings("sparse-native.xml"));
    }

    @Test
    void tcgGuestWithItsEmulatorOnAHostCpu() {
        assertEquals(List.of("warning cputune.emulator-away-from-vcpus"), findings("tcg-small.xml"));
    }

    @Test
    void tunedVmComesOutClean() {
        assertEquals(List.of(), findings("tuned.xml"));
    }
}
