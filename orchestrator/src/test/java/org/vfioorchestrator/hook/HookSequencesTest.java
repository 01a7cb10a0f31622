package org.vfioorchestrator.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * Sequences of hook calls on generated trees, as libvirt makes them: two VMs on disjoint CPUs
 * starting and stopping in either order (which the 2-CPU end-to-end machine cannot host), a
 * second VM clashing with the first, a pin failing at started, a corrupt journal at reconnect.
 * One call per operation is HookRunnerTest's.
 */
class HookSequencesTest {
    @TempDir
    Path dir;

    Path root;
    HostFs host;
    final List<String> launched = new ArrayList<>();

    /** 8 CPUs (siblings n, n+4), cgroup v1, VM "small" running with 2 vCPUs and an iothread; "other" is a copy. */
    static final HostSpec SPEC = HostSpec.builder().cpus(8).threadsPerCore(2).irqs(16).nvmeQueues(4).processes(6)
            .cgroup(HostSpec.Cgroup.V1).cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil")
            .cpuidle(true).irqbalance(false, null).vm("small", 2, 1).seed(5).build();

    static void writeTree(Path root) throws IOException {
        HostTreeGenerator.writeCached(SPEC, root);
    }

    static String profile(String pins) {
        return "host_cpus: 0,4\nvcpus:\n  pin: [" + pins + "]\nemulator_cpus: 0,4\niothread_cpus: 0,4\n"
                + "governor: performance\ncstates: {method: pm_qos, max_latency_us: 0}\n";
    }

    static String xml(String vm, int vcpus) {
        return "<domain type='kvm'><name>" + vm + "</name><vcpu placement='static'>" + vcpus + "</vcpu>"
                + "<iothreads>1</iothreads></domain>\n";
    }

    record Result(int code, String err) {
    }

    Result hook(HostFs on, String stdin, String... argv) {
        StringWriter err = new StringWriter();
        int code = new HookRunner(on, new PrintWriter(err), (vm, d) -> launched.add(vm), null)
                .run(List.of(argv), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        return new Result(code, err.toString());
    }

    Result hook(String stdin, String... argv) {
        return hook(host, stdin, argv);
    }

    @BeforeEach
    void setUp() throws Exception {
        root = dir.resolve("host");
        writeTree(root);
        cloneVm("small", "other", 50_000);
        Files.createDirectories(root.resolve("var/log")); // there on every host; the hook log goes below it
        Path profiles = Files.createDirectories(root.resolve("etc/vfio-orchestrator/profiles"));
        Files.writeString(profiles.resolve("small.yaml"), profile("1, 5"));
        Files.writeString(profiles.resolve("other.yaml"), profile("2, 6"));
        host = HostFs.open(root);
    }

    /** A second running QEMU: the first one's /proc entries under pid and thread ids + offset. */
    void cloneVm(String from, String to, int offset) throws IOException {
        int pid = Integer.parseInt(Files.readString(root.resolve("run/libvirt/qemu/" + from + ".pid")).strip());
        Path src = root.resolve("proc/" + pid);
        Path dst = root.resolve("proc/" + (pid + offset));
        try (Stream<Path> walk = Files.walk(src)) {
            for (Path p : walk.toList()) {
                String rel = src.relativize(p).toString();
                if (rel.startsWith("task/")) {
                    String[] parts = rel.split("/", 3);
                    rel = "task/" + (Integer.parseInt(parts[1]) + offset) + (parts.length > 2 ? "/" + parts[2] : "");
                }
                Path target = dst.resolve(rel);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    String text = Files.readString(p, StandardCharsets.ISO_8859_1);
                    if (p.getFileName().toString().equals("stat")) {
                        int id = Integer.parseInt(text.substring(0, text.indexOf(' ')));
                        text = (id + offset) + text.substring(text.indexOf(' '));
                    }
                    Files.writeString(target, text, StandardCharsets.ISO_8859_1);
                }
            }
        }
        Files.writeString(root.resolve("run/libvirt/qemu/" + to + ".pid"), (pid + offset) + "\n");
    }

    void start(String vm) {
        Result prepare = hook(xml(vm, 2), vm, "prepare", "begin", "-");
        assertEquals(new Result(0, ""), prepare);
        assertEquals(new Result(0, ""), hook(xml(vm, 2), vm, "start", "begin", "-"));
        assertEquals(new Result(0, ""), hook(xml(vm, 2), vm, "started", "begin", "-"));
    }

    void stop(String vm) {
        assertEquals(new Result(0, ""), hook(xml(vm, 2), vm, "stopped", "end", "-"));
        assertEquals(new Result(0, ""), hook(xml(vm, 2), vm, "release", "end", "-"));
    }

    String read(String path) {
        return host.read(path).orElseThrow().strip();
    }

    void assertPinned(String vm, List<Integer> pins) {
        QemuProcess q = QemuProcess.find(host, vm).orElseThrow();
        for (QemuThread t : q.threads()) {
            CpuSet want = t.role() == ThreadRole.VCPU ? CpuSet.of(pins.get(t.index())) : CpuSet.of(0, 4);
            assertEquals(want, host.threadAffinity(t.tid()), vm + " " + t.name());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void twoVmsOnDisjointCpusStartAndStopInEitherOrder(boolean firstOutFirst) throws Exception {
        TreeSnapshot before = TreeSnapshot.of(root);
        start("small");
        start("other");
        assertPinned("small", List.of(1, 5));
        assertPinned("other", List.of(2, 6));
        assertEquals(List.of("other", "small"), host.list("/run/vfio-orchestrator/applied"), "the shim's markers");
        for (int cpu : List.of(1, 2, 5, 6)) {
            assertEquals("performance", read("/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor"));
        }
        assertEquals("0,4", read("/sys/fs/cgroup/cpuset/vfio-host/cpuset.cpus"));

        String first = firstOutFirst ? "small" : "other";
        String second = firstOutFirst ? "other" : "small";
        List<Integer> secondPins = firstOutFirst ? List.of(2, 6) : List.of(1, 5);
        stop(first);
        for (int cpu : secondPins) {
            assertEquals("performance", read("/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor"),
                    "the VM still running keeps its isolation");
        }
        for (int cpu : firstOutFirst ? List.of(1, 5) : List.of(2, 6)) {
            assertEquals("schedutil", read("/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor"),
                    "the stopped VM's CPUs are given back");
        }
        assertPinned(second, secondPins);
        assertEquals(List.of(second), host.list("/run/vfio-orchestrator/applied"), "the stopped VM's marker is gone");
        assertEquals("0,4", read("/sys/fs/cgroup/cpuset/vfio-host/cpuset.cpus"));
        assertEquals("11", read("/proc/irq/default_smp_affinity"));

        stop(second);
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
        assertFalse(host.exists("/run/vfio-orchestrator/journal.json"));
        assertEquals(List.of(), host.list("/run/vfio-orchestrator/applied"));
        assertEquals(0700, host.stat("/run/vfio-orchestrator/applied").orElseThrow().mode(), "private, as the state directory");
    }

    @Test
    void aSecondVmWantingTheFirstOnesCpuIsRefusedAtPrepareAndTheFirstKeepsItsIsolation() throws Exception {
        start("small");
        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/other.yaml"), profile("5, 6"));
        TreeSnapshot running = TreeSnapshot.of(root);
        Result r = hook(xml("other", 2), "other", "prepare", "begin", "-");
        assertEquals(1, r.code());
        assertEquals("vfio-orchestrator: VM other not started: VM other wants CPU 5, which VM small already has ("
                + root + "/etc/vfio-orchestrator/profiles/small.yaml (as applied)); give the two VMs different vCPU CPUs\n", r.err());
        // libvirt calls the stop hooks of the VM that failed to start: they must not touch the running one
        stop("other");
        assertEquals(List.of(), running.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aPinThatFailsAtStartedIsRevertedAndRefused() throws Exception {
        TreeSnapshot before = TreeSnapshot.of(root);
        assertEquals(0, hook(xml("small", 2), "small", "prepare", "begin", "-").code());
        // the kernel refuses the first thread pin (sched_setaffinity: EPERM); everything else works
        boolean[] failed = {false};
        HostFs failing = (HostFs) java.lang.reflect.Proxy.newProxyInstance(HostFs.class.getClassLoader(),
                new Class<?>[] {HostFs.class}, (proxy, method, args) -> {
                    if (method.getName().equals("setThreadAffinity") && !failed[0]) {
                        failed[0] = true;
                        throw new HostIoException("/proc/" + args[0], Errno.EPERM, "sched_setaffinity failed");
                    }
                    try {
                        return method.invoke(host, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Result r = hook(failing, xml("small", 2), "small", "started", "begin", "-");
        assertTrue(failed[0]);
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("vfio-orchestrator: VM small not started: could not pin '"), r.err());
        assertTrue(r.err().strip().endsWith("The host side was reverted."), r.err());
        stop("small");
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aCorruptJournalNeverMakesReconnectOrAStopFailAndReconnectRepins() throws Exception {
        start("small");
        QemuThread vcpu1 = QemuProcess.find(host, "small").orElseThrow().threads(ThreadRole.VCPU).get(1);
        host.setThreadAffinity(vcpu1.tid(), CpuSet.parseList("0-7"));
        assertEquals(new Result(0, ""), hook(xml("small", 2), "small", "reconnect", "begin", "-"));
        assertEquals(CpuSet.of(5), host.threadAffinity(vcpu1.tid()));

        Path journal = root.resolve("run/vfio-orchestrator/journal.json");
        byte[] good = Files.readAllBytes(journal);
        Files.writeString(journal, "garbage");
        for (String[] op : List.of(new String[] {"reconnect", "begin"}, new String[] {"stopped", "end"},
                new String[] {"release", "end"})) {
            Result r = hook(xml("small", 2), "small", op[0], op[1], "-");
            assertEquals(0, r.code(), "a non-zero " + op[0] + " would kill the VM or cannot abort anything");
        }
        assertTrue(Files.readString(root.resolve("var/log/vfio-orchestrator/hook.log")).contains("refusing the journal"));
        Files.write(journal, good);
        stop("small");
    }
}
