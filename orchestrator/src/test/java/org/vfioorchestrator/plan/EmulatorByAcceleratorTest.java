package org.vfioorchestrator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.Change.PinThread;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.tunable.pins.ThreadPins;

/**
 * Issue 16 item 3: without emulator_cpus the emulator thread goes by accelerator: host CPUs under KVM,
 * vCPU 0's CPU under TCG, where it runs the guest's timers. The planner tells them apart by the vCPU
 * threads' names (CPU n/KVM, CPU n/TCG), as QEMU names them.
 */
class EmulatorByAcceleratorTest {
    @TempDir
    Path root;

    static final String PROFILE = "host_cpus: 0,4\nvcpus:\n  pin: [1, 5, 2, 6]\n";

    /** Where the plan pins each of the VM's threads, by thread name. */
    Map<String, CpuSet> pins(String profile) throws IOException {
        Path file = root.resolve("small.yaml");
        Files.writeString(file, profile);
        PlanService plans = new PlanService(HostFs.open(root.resolve("host")));
        Map<String, CpuSet> out = new TreeMap<>();
        for (Change c : plans.plan(List.of(plans.load(file))).changes(ThreadPins.KIND)) {
            PinThread p = (PinThread) c;
            out.merge(p.threadName().startsWith("CPU ") ? p.threadName() : p.threadName().startsWith("IO iothread")
                    ? "iothreads" : "emulator threads", p.to(), (a, b) -> {
                        assertEquals(a, b, "every emulator thread in one place");
                        return a;
                    });
        }
        return out;
    }

    /** Renames the running VM's vCPU threads as QEMU names them without KVM. */
    void runUnderTcg() throws IOException {
        try (Stream<Path> files = Files.walk(root.resolve("host/proc"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("comm")).toList()) {
                String comm = Files.readString(f);
                if (comm.matches("CPU \\d+/KVM\n")) {
                    Files.writeString(f, comm.replace("/KVM", "/TCG"));
                    Path stat = f.resolveSibling("stat");
                    Files.writeString(stat, Files.readString(stat).replace("/KVM)", "/TCG)"));
                }
            }
        }
    }

    @Test
    void kvmOnHostCpusTcgOnVcpuZerosCpu() throws IOException {
        HostTreeGenerator.writeCached(HostSpec.builder().cpus(8).irqs(0).processes(2).vm("small", 4, 1).build(),
                root.resolve("host"));
        Map<String, CpuSet> kvm = pins(PROFILE);
        assertEquals(CpuSet.of(0, 4), kvm.get("emulator threads"));
        assertEquals(CpuSet.of(0, 4), kvm.get("iothreads"));
        assertEquals(CpuSet.of(1), kvm.get("CPU 0/KVM"));

        runUnderTcg();
        Map<String, CpuSet> tcg = pins(PROFILE);
        assertEquals(CpuSet.of(1), tcg.get("emulator threads"), "with vCPU 0");
        assertEquals(CpuSet.of(0, 4), tcg.get("iothreads"), "iothreads stay on the host's CPUs");
        assertEquals(CpuSet.of(5), tcg.get("CPU 1/TCG"));

        assertEquals(CpuSet.of(0), pins(PROFILE + "emulator_cpus: 0\n").get("emulator threads"),
                "a profile that names emulator_cpus is followed under TCG too");
    }
}
