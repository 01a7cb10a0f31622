package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.Requires;

/**
 * On this machine's real kernel (root, cgroup v1 cpuset): the tool treats a
 * cgroup subtree this test creates as "the host", with load processes the test
 * started in it, so it never touches anyone else's processes. IRQ affinities and
 * the workqueue mask are real and global: they are snapshotted first and put back
 * in finally even if the tool's revert fails.
 */
@Tag("root")
class RealHostApplyTest {
    private static final Path CPUSET = Path.of("/sys/fs/cgroup/cpuset");
    private static final Path WQ = Path.of("/sys/devices/virtual/workqueue/cpumask");

    @TempDir
    Path dir;

    @Test
    void rootApplyAndRevertOnTheRunningKernelWithATestOwnedCgroup() throws Exception {
        Requires.that("root".equals(System.getProperty("user.name")), "needs root: it changes real IRQ affinity and cpusets");
        Requires.that(Files.exists(CPUSET.resolve("cpuset.cpus")), "needs a cgroup v1 cpuset hierarchy at " + CPUSET);
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        Requires.that(online.size() >= 2, "needs at least 2 CPUs");
        Requires.that(!Files.exists(Path.of("/run/vfio-orchestrator/journal.json")),
                "another apply is active on this machine (/run/vfio-orchestrator/journal.json exists)");

        int hostCpu = online.first();
        int vmCpu = online.difference(CpuSet.of(hostCpu)).first();
        String name = "vfio-test-" + ProcessHandle.current().pid();
        Path cg = CPUSET.resolve(name);
        Map<Path, String> irqsBefore = irqAffinities();
        String wqBefore = Files.readString(WQ);
        List<Process> load = new ArrayList<>();
        try {
            Files.createDirectory(cg);
            Files.writeString(cg.resolve("cpuset.cpus"), online.toString());
            Files.writeString(cg.resolve("cpuset.mems"), Files.readString(CPUSET.resolve("cpuset.mems")).strip());
            // each load process moves itself into the test's cgroup before it execs, so its threads start there
            for (int i = 0; i < 2; i++) {
                load.add(new ProcessBuilder("sh", "-c", "echo $$ > \"$0/cgroup.procs\" && exec sleep 300", cg.toString())
                        .start());
            }
            waitUntil(() -> procsIn(cg).size() == 2);
            List<Long> pids = load.stream().map(Process::pid).toList();
            assertEquals(pids.stream().sorted().toList(), procsIn(cg).stream().sorted().toList());

            Files.writeString(dir.resolve("realtest.yaml"), "host_cpus: " + hostCpu + "\nvcpus:\n  pin: [" + vmCpu + "]\n"
                    + "cgroups:\n  mode: v1\n  root: " + cg + "\n");
            HostFs host = HostFs.open(Path.of("/"));
            PlanService plans = new PlanService(host);
            Profile profile = plans.load(dir.resolve("realtest.yaml"));
            ApplyReport report = new Applier(plans, line -> { }).apply(profile, true);
            assertTrue(report.changed() > 0);

            Path hostSet = cg.resolve("vfio-host");
            assertEquals(Integer.toString(hostCpu), Files.readString(hostSet.resolve("cpuset.cpus")).strip());
            assertEquals(pids.stream().sorted().toList(), procsIn(hostSet).stream().sorted().toList());
            for (long pid : pids) {
                assertEquals(CpuSet.of(hostCpu), allowed(pid), "load process " + pid + " confined to the host CPU");
            }
            for (Map.Entry<Path, String> irq : irqsBefore.entrySet()) {
                String now = Files.readString(irq.getKey()).strip();
                boolean refused = report.refused().stream().anyMatch(x -> x.path().equals(irq.getKey().toString())); // managed: the kernel keeps it
                assertTrue(refused || CpuSet.parseList(now).equals(CpuSet.of(hostCpu)), irq.getKey() + " = " + now);
            }
            assertEquals(CpuSet.of(hostCpu), CpuSet.parseMask(Files.readString(WQ)));

            RevertReport r = new Reverter(plans, line -> { }).revert("realtest", false);
            assertTrue(r.complete(), r.toString());
            assertFalse(Files.exists(hostSet), "the host cpuset is removed");
            assertEquals(pids.stream().sorted().toList(), procsIn(cg).stream().sorted().toList());
            for (long pid : pids) {
                assertEquals(online, allowed(pid));
            }
            assertEquals(irqsBefore, irqAffinities());
            assertEquals(wqBefore, Files.readString(WQ));
        } finally {
            load.forEach(Process::destroyForcibly);
            for (Process p : load) {
                p.waitFor(10, TimeUnit.SECONDS);
            }
            restore(irqsBefore, wqBefore);
            new Reverter(new PlanService(HostFs.open(Path.of("/"))), line -> { }).revert("realtest", true);
            if (Files.exists(cg.resolve("vfio-host"))) {
                Files.delete(cg.resolve("vfio-host"));
            }
            if (Files.exists(cg)) {
                Files.delete(cg);
            }
        }
    }

    private static Map<Path, String> irqAffinities() throws IOException {
        Map<Path, String> out = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/irq"))) {
            for (Path p : s.sorted().toList()) {
                Path list = p.resolve("smp_affinity_list");
                if (Files.exists(list)) {
                    out.put(list, Files.readString(list));
                }
            }
        }
        return out;
    }

    /** Safety net: put IRQs and the workqueue mask back even if the tool did not. */
    private static void restore(Map<Path, String> irqs, String wq) {
        for (Map.Entry<Path, String> e : irqs.entrySet()) {
            try {
                if (Files.exists(e.getKey()) && !Files.readString(e.getKey()).equals(e.getValue())) {
                    Files.writeString(e.getKey(), e.getValue());
                }
            } catch (IOException ignored) {
                // managed IRQs refuse; they were never changed
            }
        }
        try {
            if (!Files.readString(WQ).equals(wq)) {
                Files.writeString(WQ, wq);
            }
        } catch (IOException ignored) {
            // reported by the assertions above
        }
    }

    private static List<Long> procsIn(Path cgroup) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
            if (!line.isBlank()) {
                out.add(Long.parseLong(line.strip()));
            }
        }
        return out;
    }

    private static CpuSet allowed(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return CpuSet.parseList(line.substring(line.indexOf(':') + 1));
            }
        }
        throw new IllegalStateException("no Cpus_allowed_list for " + pid);
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitUntil(Check check) throws Exception {
        for (int i = 0; i < 100 && !check.ok(); i++) {
            Thread.sleep(50);
        }
        assertTrue(check.ok(), "timed out waiting");
    }
}
