package org.vfioorchestrator.profile;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;

/**
 * Fuzz test of the profile parser on a fixed generated host (4 CPUs, SMT,
 * cgroup v2, acpi-cpufreq, VM "tiny" running). Invariant: a {@link Profile} or
 * an {@link OrchestratorException}, never another exception, never a hang.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../ProfileLoaderFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class ProfileLoaderFuzzTest {
    private static final ProfileLoader LOADER = loader();

    private static ProfileLoader loader() {
        HostSpec spec = HostSpec.builder().cpus(4).threadsPerCore(2).cpusPerL3(4).numaNodes(1).packages(1)
                .irqs(16).nvmeQueues(2).processes(5).cgroup(HostSpec.Cgroup.V2).cpusetController(true)
                .cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil").cpuidle(true)
                .irqbalance(false, null).vm("tiny", 2, 1).seed(7).build();
        try {
            Path root = Files.createTempDirectory("profile-fuzz-host");
            HostTreeGenerator.generate(spec, root);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root)));
            return new ProfileLoader(new PlanService(HostFs.open(root)).facts());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind
        }
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseReturnsAProfileOrRefusesIt(byte[] yaml) {
        try {
            LOADER.parse(yaml, "fuzz.yaml", "tiny");
        } catch (OrchestratorException refused) {
            // the expected way to say no, with every problem named
        }
    }
}
