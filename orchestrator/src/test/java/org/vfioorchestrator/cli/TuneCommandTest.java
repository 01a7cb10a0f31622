package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;
import org.vfioorchestrator.tune.TunerTest;

/** {@code tune} through {@link Main#run} on a generated host with VM "small" running (measured from the host). */
class TuneCommandTest {
    @TempDir
    Path dir;

    Path root;

    String[] args(String... more) throws Exception {
        root = dir.resolve("host");
        HostTreeGenerator.writeCached(TunerTest.small(), root);
        Files.writeString(dir.resolve("small.yaml"), TunerTest.PROFILE);
        Files.writeString(dir.resolve("small.xml"), TunerTest.KVM_DOMAIN);
        List<String> a = new java.util.ArrayList<>(List.of("tune", "small", "--profile", dir.resolve("small.yaml").toString(),
                "--domain", dir.resolve("small.xml").toString(), "--host-root", root.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void dryRunListsTheCandidatesAndChangesNothing() throws Exception {
        String[] a = args("--dry-run", "--duration", "30s", "--output", dir.resolve("best.yaml").toString());
        TreeSnapshot before = TreeSnapshot.of(root);
        CliRun r = run(a);
        assertEquals(0, r.code(), r.err());
        assertEquals("small: 6 candidates from " + dir.resolve("small.yaml") + ", 30s each (about 3m):\n"
                + "  1. the profile as it is\n"
                + "  2. emulator on vCPU 0's CPU 1\n"
                + "  3. emulator on vCPU 0's sibling 5\n"
                + "  4. emulator on CPU 4 of its own, the host on 0\n"
                + "  5. iothreads on vCPU 0's CPU 1\n"
                + "  6. C-states left to the kernel\n"
                + "not tried: iothread polling (<iothread><poll> in the domain XML): libvirt sets it when the VM starts,"
                + " not something the hook changes; try it with 'virsh iothreadset'\n"
                + "the best would be written to " + dir.resolve("best.yaml") + "\n", r.out());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
        assertTrue(Files.notExists(dir.resolve("best.yaml")));
    }

    @Test
    void tuneMeasuresEachCandidateWritesTheBestAndLeavesTheHostAsItWas() throws Exception {
        Path best = dir.resolve("best.yaml");
        String[] a = args("--duration", "1s", "--output", best.toString());
        TreeSnapshot before = TreeSnapshot.of(root);
        CliRun r = run(a);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().startsWith("tune: 1/6: the profile as it is\n"), r.err());
        assertTrue(r.err().contains("tune: 6/6: C-states left to the kernel\n"), r.err());
        assertTrue(r.out().startsWith("small: measured from the host (no guest figures), vCPU run-queue wait by candidate:\n"),
                r.out());
        assertTrue(r.out().contains("wrote " + best + " (best: "), r.out());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "small was not isolated before: reverted");

        String text = Files.readString(best);
        assertTrue(text.contains("# measured with the vCPU threads' run-queue wait from the host, 1s per candidate:\n"), text);
        Profile p = new PlanService(HostFs.open(root)).load(best);
        assertEquals("small", p.vm());
        assertEquals(List.of(1, 5, 2, 6), p.vcpuPins());

        CliRun again = run(a);
        assertEquals(1, again.code());
        assertEquals("vfio-orchestrator tune: " + best + ": exists; choose another --output or add --force\n", again.err());
    }

    @Test
    void theBuiltInBusyLoopIsNoToolForAGuest() throws Exception {
        CliRun r = run(args("--tool", "java"));
        assertEquals(2, r.code());
        assertEquals("vfio-orchestrator tune: --tool is cyclictest or oslat: they run inside the guest\n", r.err());
    }
}
