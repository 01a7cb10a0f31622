package org.vfioorchestrator.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.ThreadRole;

class HostTreeGeneratorTest {

    private static Path gamingRig() {
        return Path.of(System.getProperty("repo.root", ".."), "examples/hosts/gaming-rig");
    }

    private static SortedMap<String, byte[]> readTree(Path root) throws IOException {
        SortedMap<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static String text(SortedMap<String, byte[]> tree, String path) {
        byte[] b = tree.get(path);
        if (b == null) {
            fail("missing " + path);
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    // ---- (a) the bundled example never drifts from the generator ---------------------------

    @Test
    void gamingRigIsByteIdenticalToTheCommittedExample(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("gaming-rig");
        HostTreeGenerator.generate(HostSpec.gamingRig(), out);
        SortedMap<String, byte[]> fresh = readTree(out);
        SortedMap<String, byte[]> committed = readTree(gamingRig());
        TreeSet<String> onlyFresh = new TreeSet<>(fresh.keySet());
        onlyFresh.removeAll(committed.keySet());
        TreeSet<String> onlyCommitted = new TreeSet<>(committed.keySet());
        onlyCommitted.removeAll(fresh.keySet());
        assertTrue(onlyFresh.isEmpty() && onlyCommitted.isEmpty(),
                "examples/hosts/gaming-rig is out of date; regenerate it (see examples/hosts/README.md). Only generated: "
                        + first(onlyFresh) + "; only committed: " + first(onlyCommitted));
        for (Map.Entry<String, byte[]> e : fresh.entrySet()) {
            assertArrayEquals(e.getValue(), committed.get(e.getKey()),
                    "examples/hosts/gaming-rig/" + e.getKey() + " differs; regenerate it (see examples/hosts/README.md)");
        }
    }

    private static List<String> first(TreeSet<String> s) {
        return s.stream().limit(5).toList();
    }

    @Test
    void sameSpecGivesTheSameBytesAndAnotherSeedDoesNot() {
        HostSpec spec = HostSpec.builder().cpus(12).cgroup(HostSpec.Cgroup.V1).vm("vm-a", 4, 1).seed(7).build();
        SortedMap<String, byte[]> a = HostTreeGenerator.render(spec);
        SortedMap<String, byte[]> b = HostTreeGenerator.render(spec);
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
        SortedMap<String, byte[]> c = HostTreeGenerator.render(spec.toBuilder().seed(8).build());
        assertFalse(Arrays.equals(a.get("proc/interrupts"), c.get("proc/interrupts")));
    }

    // ---- (b) formats ---------------------------------------------------------------------

    @Test
    void masksAreAsWideAsNrCpuIdsFor36Cpus() {
        SortedMap<String, byte[]> t = HostTreeGenerator.render(HostSpec.builder()
                .cpus(36).threadsPerCore(2).cpusPerL3(12).processes(2).build());
        assertEquals("f,ffffffff\n", text(t, "proc/irq/default_smp_affinity"));
        assertEquals("f,ffffffff\n", text(t, "sys/devices/virtual/workqueue/cpumask"));
        assertEquals("0,00040001\n", text(t, "sys/devices/system/cpu/cpu0/topology/thread_siblings"));
        assertEquals("0,18\n", text(t, "sys/devices/system/cpu/cpu0/topology/thread_siblings_list"));
        assertEquals("0-5,18-23\n", text(t, "sys/devices/system/cpu/cpu0/cache/index3/shared_cpu_list"));
        assertEquals("12-17,30-35\n", text(t, "sys/devices/system/cpu/cpu35/cache/index3/shared_cpu_list"));
        assertTrue(text(t, "proc/1/status").contains("\nCpus_allowed:\tf,ffffffff\nCpus_allowed_list:\t0-35\n"));
    }

    @Test
    void masksAreAsWideAsNrCpuIdsFor256Cpus() {
        SortedMap<String, byte[]> t = HostTreeGenerator.render(HostSpec.builder()
                .cpus(256).threadsPerCore(2).cpusPerL3(16).numaNodes(2).packages(2)
                .processes(0).noCpufreq().cpuidle(false).build());
        String all = String.join(",", java.util.Collections.nCopies(8, "ffffffff")) + "\n";
        assertEquals(all, text(t, "proc/irq/default_smp_affinity"));
        assertEquals("00000000,00000000,00000000,00000001,00000000,00000000,00000000,00000001\n",
                text(t, "sys/devices/system/cpu/cpu0/topology/thread_siblings"));
        assertEquals("0-63,128-191\n", text(t, "sys/devices/system/node/node0/cpulist"));
        assertEquals("64-127,192-255\n", text(t, "sys/devices/system/node/node1/cpulist"));
        assertEquals("1\n", text(t, "sys/devices/system/cpu/cpu200/topology/physical_package_id"));
        assertEquals("8\n", text(t, "sys/devices/system/cpu/cpu200/topology/core_id"));
        String header = text(t, "proc/interrupts").lines().findFirst().orElseThrow();
        assertTrue(header.startsWith(" ".repeat(12) + "CPU0       CPU1"), "4-digit IRQ column: " + header.substring(0, 30));
    }

    /** Fields of a stat line, with the parenthesised comm (which may hold spaces) as field 2. */
    private static List<String> statFields(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        List<String> f = new ArrayList<>();
        f.add(stat.substring(0, open - 1));
        f.add(stat.substring(open, close + 1));
        f.addAll(Arrays.asList(stat.substring(close + 2).strip().split(" ")));
        return f;
    }

    @Test
    void statHas52FieldsWithFlagsAt9AndStarttimeAt22() {
        SortedMap<String, byte[]> t = HostTreeGenerator.render(HostSpec.gamingRig());
        int checked = 0;
        for (String path : t.keySet()) {
            if (!path.matches("proc/\\d+/task/\\d+/stat")) {
                continue;
            }
            String stat = text(t, path);
            assertTrue(stat.endsWith("\n"), path);
            List<String> f = statFields(stat.strip());
            assertEquals(52, f.size(), path);
            String dir = path.substring(0, path.length() - "stat".length());
            assertEquals(f.get(0), path.split("/")[3]);
            String comm = text(t, dir + "comm").strip();
            assertEquals("(" + comm + ")", f.get(1));
            long flags = Long.parseLong(f.get(8));
            boolean perCpu = comm.matches("(ksoftirqd|migration|cpuhp)/\\d+|kworker/.*");
            assertEquals(perCpu, (flags & HostTreeGenerator.PF_NO_SETAFFINITY) != 0, path + " " + comm);
            assertEquals(Long.parseLong(f.get(21)), QemuProcess.startTime(stat), path);
            checked++;
        }
        assertTrue(checked > 200, "checked " + checked);
        String status = text(t, "proc/1/status");
        assertTrue(status.contains("\nTgid:\t1\n") && status.contains("\nPid:\t1\n")
                && status.contains("\nvoluntary_ctxt_switches:\t") && status.contains("\nnonvoluntary_ctxt_switches:\t"));
        assertTrue(text(t, "proc/1/task/1/schedstat").matches("\\d+ \\d+ \\d+\n"));
    }

    @Test
    void interruptsHaveOneColumnPerOnlineCpuAndSoftirqsOnePerPossibleCpu() {
        SortedMap<String, byte[]> t = HostTreeGenerator.render(HostSpec.builder()
                .cpus(12).cpusPerL3(6).offline(CpuSet.of(10, 11)).irqs(40).vm("vm", 2, 1).build());
        List<String> lines = text(t, "proc/interrupts").lines().toList();
        List<String> header = Arrays.asList(lines.get(0).strip().split("\\s+"));
        assertEquals(List.of("CPU0", "CPU1", "CPU2", "CPU3", "CPU4", "CPU5", "CPU6", "CPU7", "CPU8", "CPU9"), header);
        int irqRows = 0;
        for (String line : lines.subList(1, lines.size())) {
            String label = line.substring(0, line.indexOf(':')).strip();
            String[] cols = line.substring(line.indexOf(':') + 1).strip().split("\\s+");
            if (label.equals("ERR") || label.equals("MIS")) {
                assertEquals(1, cols.length, line);
                continue;
            }
            for (int i = 0; i < 10; i++) {
                Long.parseLong(cols[i]);
            }
            assertFalse(cols[10].matches("\\d+"), "11th column is the chip or description: " + line);
            if (label.matches("\\d+")) {
                irqRows++;
                assertTrue(t.containsKey("proc/irq/" + label + "/smp_affinity_list"), label);
            }
        }
        assertEquals(40, irqRows);
        assertTrue(text(t, "proc/interrupts").contains("  vfio-msix[0](0000:0b:00.0)\n"));
        String softirqs = text(t, "proc/softirqs");
        assertEquals(12, softirqs.lines().findFirst().orElseThrow().strip().split("\\s+").length);
        assertEquals("0\n", text(t, "sys/devices/system/cpu/cpu10/online"));
        assertEquals(List.of("sys/devices/system/cpu/cpu10/online"),
                t.keySet().stream().filter(k -> k.startsWith("sys/devices/system/cpu/cpu10/")).toList());
        assertEquals("0-9\n", text(t, "sys/devices/system/cpu/online"));
        assertEquals("10-11\n", text(t, "sys/devices/system/cpu/offline"));
        assertEquals("0-11\n", text(t, "sys/devices/system/cpu/possible"));
        // an offline sibling leaves the sibling lists
        assertEquals("4\n", text(t, "sys/devices/system/cpu/cpu4/topology/thread_siblings_list"));
        assertEquals("0,6\n", text(t, "sys/devices/system/cpu/cpu0/topology/thread_siblings_list"));
    }

    @Test
    void theSmallestBenchmarkShapeHasExactlyTheTasksAndIrqsAskedFor() {
        // bench/gen-hosts.sh: 100 IRQs per 8 CPUs, 20 tasks per CPU (here 16 CPUs)
        SortedMap<String, byte[]> t = HostTreeGenerator.render(HostSpec.builder().cpus(16).cpusPerL3(16)
                .irqs(200).tasks(320).threadsPerProcess(4).vm("win11", 8, 1).build());
        TreeSet<String> tasks = new TreeSet<>();
        for (String path : t.keySet()) {
            String[] p = path.split("/");
            if (p.length == 5 && p[0].equals("proc") && p[2].equals("task")) {
                tasks.add(p[3]);
            }
        }
        assertEquals(320, tasks.size());
        long irqRows = text(t, "proc/interrupts").lines().filter(l -> l.strip().matches("\\d+:.*")).count();
        assertEquals(200, irqRows);
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
                () -> HostTreeGenerator.render(HostSpec.builder().cpus(16).tasks(20).build()));
        assertTrue(tooFew.getMessage().startsWith("tasks=20 is below the "), tooFew.getMessage());
    }

    @Test
    void gamingRigLooksLikeTheBrief() {
        HostFs host = HostFs.open(gamingRig());
        assertEquals("0-31", host.readRequired("/sys/devices/system/cpu/online").strip());
        assertEquals("0,16", host.readRequired("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list").strip());
        assertEquals("0-7,16-23", host.readRequired("/sys/devices/system/cpu/cpu3/cache/index3/shared_cpu_list").strip());
        assertEquals("8-15,24-31", host.readRequired("/sys/devices/system/cpu/cpu24/cache/index3/shared_cpu_list").strip());
        assertEquals("schedutil", host.readRequired("/sys/devices/system/cpu/cpu7/cpufreq/scaling_governor").strip());
        assertEquals("C3", host.readRequired("/sys/devices/system/cpu/cpu7/cpuidle/state3/name").strip());
        assertFalse(host.readRequired("/proc/cmdline").contains("isolcpus"));
        assertFalse(host.readRequired("/etc/default/irqbalance").contains("\nIRQBALANCE_BANNED_CPULIST="));
        long rows = host.readRequired("/proc/interrupts").lines().filter(l -> l.strip().matches("\\d+:.*")).count();
        assertEquals(60, rows);
        QemuProcess q = QemuProcess.find(host, "win11").orElseThrow();
        assertEquals(8, q.threads(ThreadRole.VCPU).size());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), q.threads(ThreadRole.VCPU).stream().map(x -> x.index()).toList());
        assertEquals(1, q.threads(ThreadRole.IOTHREAD).size());
        assertTrue(q.threads(ThreadRole.EMULATOR).size() >= 3);
        assertEquals(q.pid() + "\n", host.readRequired(
                "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dwin11.scope/cgroup.procs"));
    }

    // ---- (c) the simulated kernel on a generated tree -------------------------------------

    private static int pidOf(HostFs host, String comm) {
        for (String pid : host.list("/proc")) {
            if (pid.matches("\\d+") && host.read("/proc/" + pid + "/comm").orElse("").strip().equals(comm)) {
                return Integer.parseInt(pid);
            }
        }
        throw new AssertionError("no process " + comm);
    }

    private static List<String> lines(HostFs host, String path) {
        return host.readRequired(path).lines().toList();
    }

    @Test
    void treeHostFsMovesTasksAndRefusesWhatTheKernelRefusesOnAV1Tree(@TempDir Path tmp) throws IOException {
        HostSpec spec = HostSpec.builder().cpus(16).cpusPerL3(8).cgroup(HostSpec.Cgroup.V1).vm("win11", 4, 1)
                .processes(6).noCpufreq().cpuidle(false).build();
        HostTreeGenerator.generate(spec, tmp);
        HostFs host = HostFs.open(tmp);
        assertFalse(host.isLive());
        String cpuset = "/sys/fs/cgroup/cpuset";

        int libvirtd = pidOf(host, "libvirtd");
        List<String> threads = host.list("/proc/" + libvirtd + "/task");
        assertTrue(threads.size() > 1);
        assertTrue(lines(host, cpuset + "/cgroup.procs").contains(Integer.toString(libvirtd)));
        host.write(cpuset + "/machine.slice/cgroup.procs", Integer.toString(libvirtd));
        assertEquals(List.of(Integer.toString(libvirtd)), lines(host, cpuset + "/machine.slice/cgroup.procs"));
        assertEquals(threads, lines(host, cpuset + "/machine.slice/tasks"));
        assertFalse(lines(host, cpuset + "/cgroup.procs").contains(Integer.toString(libvirtd)));
        assertTrue(lines(host, cpuset + "/tasks").stream().noneMatch(threads::contains));

        int qemu = Integer.parseInt(host.readRequired("/run/libvirt/qemu/win11.pid").strip());
        assertTrue(lines(host, cpuset + "/machine.slice/machine-qemu\\x2d1\\x2dwin11.scope/cgroup.procs")
                .contains(Integer.toString(qemu)));

        int ksoftirqd = pidOf(host, "ksoftirqd/2");
        HostIoException move = assertThrows(HostIoException.class,
                () -> host.write(cpuset + "/machine.slice/cgroup.procs", Integer.toString(ksoftirqd)));
        assertEquals(Errno.EINVAL, move.errno());
        HostIoException pin = assertThrows(HostIoException.class, () -> host.setThreadAffinity(ksoftirqd, CpuSet.of(3)));
        assertEquals(Errno.EINVAL, pin.errno());

        host.setThreadAffinity(libvirtd, CpuSet.of(0, 8));
        assertEquals(CpuSet.of(0, 8), host.threadAffinity(libvirtd));
        assertTrue(host.readRequired("/proc/" + libvirtd + "/status").contains("\nCpus_allowed:\t0101\n"));
    }

    @Test
    void treeHostFsRefusesManagedIrqsWithEioAndKeepsMaskWidthForOthers(@TempDir Path tmp) throws IOException {
        HostTreeGenerator.generate(HostSpec.builder().cpus(36).cpusPerL3(12).processes(1)
                .noCpufreq().cpuidle(false).build(), tmp);
        HostFs host = HostFs.open(tmp);
        Integer managed = null;
        Integer plain = null;
        for (String irq : host.list("/sys/kernel/debug/irq/irqs")) {
            String debug = host.readRequired("/sys/kernel/debug/irq/irqs/" + irq);
            if (debug.contains("IRQD_AFFINITY_MANAGED") && managed == null) {
                managed = Integer.valueOf(irq);
            } else if (debug.contains("device:") && !debug.contains("IRQD_AFFINITY_MANAGED") && plain == null) {
                plain = Integer.valueOf(irq);
            }
        }
        int m = managed;
        HostIoException e = assertThrows(HostIoException.class, () -> host.write("/proc/irq/" + m + "/smp_affinity_list", "4"));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(host.readRequired("/proc/interrupts").contains("nvme0q1\n"));

        host.write("/proc/irq/" + plain + "/smp_affinity_list", "2-3");
        assertEquals("0,0000000c\n", host.readRequired("/proc/irq/" + plain + "/smp_affinity"));
    }
}
