package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.testing.Requires;

/**
 * The hook end to end, on this machine, with the real libvirtd and QEMU (TCG: no KVM needed):
 * install the shaded jar and the hook (real /etc/libvirt/hooks), let libvirtd find it,
 * start a small VM whose profile isolates CPU 1 for its single vCPU, and check from /proc
 * and /sys that every thread, IRQ, workqueue mask and cpuset is where the profile says;
 * destroy it and check the host is byte-identical to before. Also: a broken profile stops
 * the start with our message and changes nothing; restarting libvirtd while the VM runs
 * (libvirt's {@code reconnect}) keeps it running and re-pins a thread that drifted.
 *
 * <p>Nothing of anyone else is touched: the profile's cgroup root is a cpuset subtree the
 * test creates with a {@code sleep} of its own in it; libvirtd is only reloaded or restarted
 * when it manages no domain but ours (or was started by this test). Everything is put back
 * in {@link #tearDown}, which also checks /etc/libvirt/hooks is exactly as before.
 *
 * <p>With two CPUs only one VM can be isolated at a time (a vCPU needs a CPU the host gives
 * up, and two VMs may not share one), so two VMs starting and stopping in either order are
 * tested on generated trees (hook.HookRunnerTest) instead.
 */
@Tag("libvirt")
@Tag("root")
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LibvirtHookE2eTest {
    static final String HOOKS = "/etc/libvirt/hooks";
    static final String CPUSET = "/sys/fs/cgroup/cpuset";
    static final String WQ = Guest.WQ;
    static final Path PROFILES = Guest.PROFILES;
    static final Path HOOK_LOG = Guest.HOOK_LOG;
    static final Path JOURNAL = Guest.JOURNAL;

    final String id = ProcessHandle.current().pid() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    final String vm = "vfio-e2e-" + id;
    final String badVm = vm + "-bad";
    /** The cgroup subtree the tool treats as "the host": ours, with only our sleep in it. */
    final String cgroup = CPUSET + "/vfio-e2e-" + id;
    final String prefix = "/opt/vfio-e2e-" + id;

    Path work;
    Path jar;
    String qemuBinary;
    boolean v1;
    Libvirtd libvirtd;
    boolean installed;
    boolean runDirExisted;
    boolean logDirExisted;
    long hookLogStart;
    Map<String, String> hooksBefore;
    Process sleep;
    final List<String> notes = new ArrayList<>();

    // ---- set-up ---------------------------------------------------------------------------

    /** Why the machine cannot run this test, or null; each test skips with it, so the reason shows per test. */
    String skipReason;

    @BeforeAll
    void setUp() throws Exception {
        skipReason = Guest.skipReasonOf("LibvirtHookE2eTest", this::prepare);
    }

    void ready() {
        Requires.that(skipReason == null, skipReason);
    }

    void prepare() throws Exception {
        Guest.requireMachineToItself("it installs the hook into /etc/libvirt/hooks and changes IRQs, workqueues and"
                + " cpusets", List.of("virsh", "libvirtd", "qemu-system-x86_64"),
                "libvirt-daemon-system libvirt-clients qemu-system-x86");
        qemuBinary = Libvirtd.onPath("qemu-system-x86_64").orElseThrow().toString();
        jar = locateJar();
        Requires.that(jar != null, "no built jar at " + System.getProperty("vfio.jar") + " and no mvn to build it: run"
                + " 'mvn -B verify' (the e2e tests run after 'package')");

        libvirtd = new Libvirtd(List.of(vm, badVm));
        libvirtd.requireToItself();
        v1 = Files.isRegularFile(Path.of(CPUSET, "cpuset.cpus"));
        if (!v1) {
            notes.add("no cgroup v1 cpuset hierarchy at " + CPUSET + ": the profile uses cgroups.mode none and the cpuset"
                    + " checks are skipped (a v2 subtree cannot hold our sleep and enable cpuset below it at once)");
        }
        work = Files.createTempDirectory("vfio-e2e-");
        hooksBefore = Cleanup.snapshotTree(Path.of(HOOKS));
        runDirExisted = Files.exists(JOURNAL.getParent());
        logDirExisted = Files.exists(HOOK_LOG.getParent());
        hookLogStart = Guest.hookLogSize();

        // install exactly as a user would, from the shaded jar
        Cmd.Out install = Cmd.run(Duration.ofMinutes(3), "java", "-jar", jar.toString(), "install", "--prefix", prefix);
        installed = true;
        assertEquals(0, install.code(), install.out() + install.err());
        assertTrue(Files.isExecutable(Path.of(HOOKS, "qemu.d/vfio-orchestrator"))
                || Files.isExecutable(Path.of(HOOKS, "qemu")), install.out());
        // the class-data-sharing archive the shim starts the hook's JVM with (the hook calls below use it)
        Path archive = Path.of(prefix, "lib/vfio-orchestrator/vfio-orchestrator.jsa");
        assertTrue(Files.isRegularFile(archive) && install.out().contains("wrote " + archive), install.out() + install.err());

        libvirtd.findHooks();

        if (v1) {
            Files.createDirectory(Path.of(cgroup));
            Files.writeString(Path.of(cgroup, "cpuset.cpus"), Files.readString(Path.of(CPUSET, "cpuset.cpus")));
            Files.writeString(Path.of(cgroup, "cpuset.mems"), Files.readString(Path.of(CPUSET, "cpuset.mems")));
            sleep = new ProcessBuilder("sleep", "900").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Files.writeString(Path.of(cgroup, "cgroup.procs"), Long.toString(sleep.pid()));
        }
        Files.writeString(PROFILES.resolve(vm + ".yaml"), profile());
        Files.writeString(PROFILES.resolve(badVm + ".yaml"), profile());
        Files.writeString(work.resolve(vm + ".xml"), Guest.domainXml(vm, 1, qemuBinary));
        Files.writeString(work.resolve(badVm + ".xml"), Guest.domainXml(badVm, 2, qemuBinary));
        notes.forEach(n -> System.err.println("LibvirtHookE2eTest: " + n));
    }

    String profile() {
        boolean writeback = Files.exists(Path.of(WQ, "writeback/cpumask"));
        return "# written by LibvirtHookE2eTest; removed when it ends\n"
                + "host_cpus: 0\n"
                + "vcpus:\n  pin: [1]\n"
                + "emulator_cpus: 0\n"
                + "iothread_cpus: 0\n"
                + "irqs: {move_to_host: true, passthrough: host}\n"
                + "workqueues: {move_to_host: true, also: " + (writeback ? "[writeback]" : "[]") + "}\n"
                + "governor: leave\n"
                + "cstates: {method: leave}\n"
                + (v1 ? "cgroups: {mode: v1, root: " + cgroup + ", keep: []}\n" : "cgroups: {mode: none}\n")
                + "measure: {after_start: false}\n";
    }

    // ---- the tests ------------------------------------------------------------------------

    @Test
    @Order(1)
    void startingTheVmIsolatesCpu1AndDestroyingItRestoresTheHostByteForByte() throws Exception {
        ready();
        Map<String, String> before = hostState();
        Cmd.Out create = Libvirtd.virsh("create", work.resolve(vm + ".xml").toString());
        assertEquals(0, create.code(), create.err() + "\nhook log:\n" + Guest.hookLogSince(hookLogStart));
        assertTrue(Guest.hookLogSince(hookLogStart).contains(vm + " prepare begin: "), "the hook did not run: libvirtd did not pick it up."
                + " Hook log:\n" + Guest.hookLogSince(hookLogStart));

        checkIsolated(before);

        // status reads the same from the journal and /proc
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "status", vm, "--json");
        assertEquals(0, code, out + "" + err);
        Map<String, Object> status = JSON.std.mapFrom(out.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> vmStatus = ((List<Map<String, Object>>) status.get("vms")).get(0);
        assertEquals(true, vmStatus.get("applied"), out.toString());
        assertEquals(List.of(), status.get("drift"));

        Cmd.Out destroy = Libvirtd.virsh("destroy", vm);
        assertEquals(0, destroy.code(), destroy.err());
        Libvirtd.waitFor(() -> !Files.exists(JOURNAL), Duration.ofSeconds(20), "the stop hooks to revert (journal gone)");
        assertEquals(before, hostState(), "host state after destroy differs from before start");
    }

    @Test
    @Order(2)
    void aBrokenProfileStopsTheStartWithOurMessageAndChangesNothing() throws Exception {
        ready();
        Map<String, String> before = hostState();
        Cmd.Out create = Libvirtd.virsh("create", work.resolve(badVm + ".xml").toString());
        assertTrue(create.code() != 0, "started although the profile pins 1 vCPU and the domain has 2");
        assertTrue(create.err().contains("vfio-orchestrator: VM " + badVm + " not started: "), create.err());
        assertTrue(create.err().contains("<vcpu> is 2 but /etc/vfio-orchestrator/profiles/" + badVm + ".yaml pins 1 vCPUs"),
                create.err());
        assertFalse(Libvirtd.virsh("list", "--name").out().contains(badVm));
        assertFalse(Files.exists(JOURNAL));
        assertEquals(before, hostState());
    }

    @Test
    @Order(3)
    void restartingLibvirtdWhileTheVmRunsKeepsItRunningAndRepinsADriftedThread() throws Exception {
        ready();
        List<String> foreign = libvirtd.weStarted ? List.of() : libvirtd.awaitNoForeignDomains();
        Requires.that(foreign.isEmpty(), "restarting libvirtd is only safe when it manages no domain but ours; it has "
                + String.join(", ", foreign) + " (waited " + Libvirtd.FOREIGN_WAIT.toSeconds() + " s)");
        Map<String, String> before = hostState();
        Cmd.Out create = Libvirtd.virsh("create", work.resolve(vm + ".xml").toString());
        assertEquals(0, create.code(), create.err());
        int pid = Guest.qemuPid(vm);
        int vcpu = Guest.threads(pid).entrySet().stream().filter(e -> e.getValue().startsWith("CPU 0/")).findFirst()
                .orElseThrow().getKey();
        assertEquals(CpuSet.of(1), Guest.affinity(pid, vcpu));
        // someone moves the vCPU thread away; libvirt's reconnect must not kill the VM, and the hook pins it back
        org.vfioorchestrator.host.HostFs.open(Path.of("/")).setThreadAffinity(vcpu, CpuSet.of(0, 1));
        assertEquals(CpuSet.of(0, 1), Guest.affinity(pid, vcpu));

        libvirtd.restart();
        Libvirtd.waitFor(() -> Libvirtd.virsh("domstate", vm).out().strip().equals("running"), Duration.ofSeconds(60), vm + " running again");
        assertEquals(pid, Guest.qemuPid(vm), "the same QEMU process: libvirt reconnected instead of restarting it");
        // the hook pins first and logs after: wait for both, then say which one is missing
        Libvirtd.waitFor(() -> CpuSet.of(1).equals(Guest.affinity(pid, vcpu))
                && Guest.hookLogSince(hookLogStart).contains(vm + " reconnect begin: "), Duration.ofSeconds(60),
                "the reconnect hook to re-pin the vCPU and log it");
        assertEquals(CpuSet.of(1), Guest.affinity(pid, vcpu), "the reconnect hook re-pinned the vCPU");
        assertTrue(Guest.hookLogSince(hookLogStart).contains(vm + " reconnect begin: "), Guest.hookLogSince(hookLogStart));
        checkIsolated(before);

        assertEquals(0, Libvirtd.virsh("destroy", vm).code());
        Libvirtd.waitFor(() -> !Files.exists(JOURNAL), Duration.ofSeconds(20), "the stop hooks to revert (journal gone)");
        assertEquals(before, hostState());
    }

    /** The VM's threads, IRQs, workqueues and cpusets as the profile wants them. */
    void checkIsolated(Map<String, String> before) throws Exception {
        int pid = Guest.qemuPid(vm);
        Map<Integer, String> threads = Guest.threads(pid);
        assertTrue(threads.values().stream().anyMatch(n -> n.equals("CPU 0/TCG") || n.equals("CPU 0/KVM")), threads.toString());
        assertTrue(threads.containsValue("IO iothread1"), threads.toString());
        for (Map.Entry<Integer, String> t : threads.entrySet()) {
            CpuSet want = t.getValue().startsWith("CPU 0/") ? CpuSet.of(1) : CpuSet.of(0);
            assertEquals(want, Guest.affinity(pid, t.getKey()), "thread " + t.getKey() + " '" + t.getValue() + "'");
        }
        Set<String> unmovable = unmovableIrqs();
        for (Map.Entry<String, String> e : before.entrySet()) {
            if (e.getKey().matches("/proc/irq/\\d+/smp_affinity_list")) {
                String now = read(e.getKey());
                if (unmovable.contains(e.getKey())) {
                    assertEquals(e.getValue(), now, e.getKey() + " refused the move, so it must be unchanged");
                } else {
                    assertEquals(CpuSet.of(0), CpuSet.parseList(now), e.getKey());
                }
            }
        }
        assertEquals(CpuSet.of(0), CpuSet.parseMask(read("/proc/irq/default_smp_affinity")));
        assertEquals(CpuSet.of(0), CpuSet.parseMask(read(WQ + "/cpumask")));
        if (Files.exists(Path.of(WQ, "writeback/cpumask"))) {
            assertEquals(CpuSet.of(0), CpuSet.parseMask(read(WQ + "/writeback/cpumask")));
        }
        if (v1) {
            assertEquals(CpuSet.of(0), CpuSet.parseList(read(cgroup + "/vfio-host/cpuset.cpus")));
            assertTrue(lines(cgroup + "/vfio-host/cgroup.procs").contains(Long.toString(sleep.pid())),
                    "our sleep moved into the host cpuset");
            assertFalse(lines(cgroup + "/cgroup.procs").contains(Long.toString(sleep.pid())));
            assertEquals(CpuSet.of(0), CpuSet.parseList(Guest.statusField(Files.readString(Path.of("/proc/" + sleep.pid() + "/status")),
                    "Cpus_allowed_list")), "the cpuset confines our sleep to CPU 0");
        }
    }

    // ---- tear-down ------------------------------------------------------------------------

    @AfterAll
    void tearDown() throws Exception {
        Cleanup cleanup = new Cleanup();
        for (String d : List.of(vm, badVm)) {
            cleanup.attempt("destroy " + d, () -> {
                if (Libvirtd.virsh("domstate", d).out().strip().equals("running")) {
                    Libvirtd.virsh("destroy", d);
                }
            });
        }
        cleanup.attempt("revert what the journal still holds for the test's VMs", () -> {
            if (Files.exists(JOURNAL)) {
                String text = Files.readString(JOURNAL);
                for (String d : List.of(vm, badVm)) {
                    if (text.contains("\"" + d + "\"")) {
                        Main.run(new PrintWriter(System.err), new PrintWriter(System.err), "revert", d, "--force");
                        cleanup.problem("the journal still listed " + d + " after the test; reverted it");
                    }
                }
            }
        });
        cleanup.attempt("remove the test profiles", () -> {
            Files.deleteIfExists(PROFILES.resolve(vm + ".yaml"));
            Files.deleteIfExists(PROFILES.resolve(badVm + ".yaml"));
        });
        if (installed) {
            cleanup.attempt("uninstall", () -> {
                Cmd.Out u = Cmd.run(Duration.ofMinutes(1), "java", "-jar", jar.toString(), "uninstall");
                if (u.code() != 0) {
                    cleanup.problem("uninstall exited " + u.code() + ": " + u.out() + u.err());
                } else if (Files.exists(Path.of(prefix))) {
                    cleanup.problem("uninstall left " + prefix + " behind: " + u.out());
                }
            });
        }
        cleanup.attempt("stop or refresh libvirtd", () -> {
            if (libvirtd != null) {
                libvirtd.putBack(); // a reload forgets the hook it found: the hook directory is as before again
            }
        });
        cleanup.attempt("remove the test cgroup", () -> {
            if (sleep != null) {
                sleep.destroy();
                sleep.waitFor(10, TimeUnit.SECONDS);
            }
            for (String dir : List.of(cgroup + "/vfio-host", cgroup)) {
                if (Files.isDirectory(Path.of(dir))) {
                    Files.delete(Path.of(dir));
                }
            }
        });
        cleanup.attempt("remove the tool's state and log directories the test created", () -> {
            if (!runDirExisted && !Files.exists(JOURNAL)) {
                Cleanup.deleteFilesAndDir(JOURNAL.getParent());
            }
            if (!logDirExisted) {
                Cleanup.deleteFilesAndDir(HOOK_LOG.getParent());
            }
        });
        if (hooksBefore != null) {
            cleanup.attempt("compare " + HOOKS, () -> {
                Map<String, String> after = Cleanup.snapshotTree(Path.of(HOOKS));
                if (!after.equals(hooksBefore)) {
                    cleanup.problem(HOOKS + " is not as before the test: before " + hooksBefore.keySet() + ", after " + after.keySet());
                }
            });
        }
        cleanup.attempt("remove " + work, () -> {
            if (work != null) {
                Cleanup.deleteFilesAndDir(work);
            }
        });
        cleanup.check();
    }

    // ---- host state -----------------------------------------------------------------------

    /** {@link Guest#kernelState}, and every readable file of the test cgroup. */
    Map<String, String> hostState() throws IOException {
        Map<String, String> m = Guest.kernelState();
        if (v1) {
            m.putAll(Cleanup.snapshotTree(Path.of(cgroup)));
        }
        return m;
    }

    static String read(String path) throws IOException {
        return Files.readString(Path.of(path));
    }

    static List<String> lines(String path) throws IOException {
        return Files.readAllLines(Path.of(path)).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** IRQs the kernel refused to move (managed), as the hook logged them. */
    Set<String> unmovableIrqs() {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("unmovable (/proc/irq/\\d+/smp_affinity_list)").matcher(Guest.hookLogSince(hookLogStart));
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    // ---- helpers --------------------------------------------------------------------------

    /** The shaded jar 'mvn package' built; built here when missing (e.g. the test started from an IDE). */
    static Path locateJar() {
        String prop = System.getProperty("vfio.jar");
        Path jar = prop != null ? Path.of(prop)
                : Path.of(System.getProperty("repo.root", ".."), "orchestrator/target/vfio-orchestrator.jar");
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        Path repo = Path.of(System.getProperty("repo.root", ".."));
        if (Libvirtd.onPath("mvn").isPresent() && Files.exists(repo.resolve("pom.xml"))) {
            Cmd.Out built = Cmd.run(Duration.ofMinutes(10), List.of("mvn", "-B", "-q", "-DskipTests", "package"), repo);
            if (built.ok() && Files.isRegularFile(jar)) {
                return jar;
            }
        }
        return null;
    }
}
