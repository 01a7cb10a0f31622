package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    static final String URI = "qemu:///system";
    static final String HOOKS = "/etc/libvirt/hooks";
    static final String CPUSET = "/sys/fs/cgroup/cpuset";
    static final String WQ = "/sys/devices/virtual/workqueue";
    static final Path PROFILES = Path.of("/etc/vfio-orchestrator/profiles");
    static final Path HOOK_LOG = Path.of("/var/log/vfio-orchestrator/hook.log");
    static final Path JOURNAL = Path.of("/run/vfio-orchestrator/journal.json");

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
    boolean libvirtdWasRunning;
    boolean weStartedLibvirtd;
    boolean weStartedVirtlogd;
    boolean weSignalledLibvirtd;
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
        try {
            prepare();
        } catch (org.opentest4j.TestAbortedException e) {
            skipReason = e.getMessage().replaceFirst("^Assumption failed: ", "");
            System.err.println("LibvirtHookE2eTest: skipped: " + skipReason);
        }
    }

    void ready() {
        Requires.that(skipReason == null, skipReason);
    }

    void prepare() throws Exception {
        Requires.that("root".equals(System.getProperty("user.name")) || uid() == 0,
                "needs root: it installs the hook into /etc/libvirt/hooks and changes IRQs, workqueues and cpusets");
        for (String tool : List.of("virsh", "libvirtd", "qemu-system-x86_64")) {
            Requires.that(onPath(tool).isPresent(), "needs " + tool + " (apt-get install libvirt-daemon-system"
                    + " libvirt-clients qemu-system-x86)");
        }
        qemuBinary = onPath("qemu-system-x86_64").orElseThrow().toString();
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        Requires.that(online.contains(0) && online.contains(1), "needs online CPUs 0 and 1 (has " + online + ")");
        Requires.that(!Files.exists(Path.of("/etc/vfio-orchestrator/install.manifest")), "vfio-orchestrator is installed on"
                + " this machine (/etc/vfio-orchestrator/install.manifest): the test installs and removes its own copy and"
                + " does not run over a real install");
        Requires.that(!Files.exists(JOURNAL), JOURNAL + " exists: vfio-orchestrator isolates VMs on this machine right now;"
                + " the test needs the host to itself");
        jar = locateJar();
        Requires.that(jar != null, "no built jar at " + System.getProperty("vfio.jar") + " and no mvn to build it: run"
                + " 'mvn -B verify' (the e2e tests run after 'package')");

        libvirtdWasRunning = libvirtdPid().isPresent();
        if (libvirtdWasRunning) {
            Cmd.Out version = virsh("version");
            Requires.that(version.ok(), "libvirtd runs but cannot be reached at " + URI + ": " + version.err().strip());
            List<String> foreign = awaitNoForeignDomains();
            Requires.that(foreign.isEmpty(), "libvirtd must reload to find the hook, but it manages domains of others ("
                    + String.join(", ", foreign) + ") and they did not go within " + FOREIGN_WAIT.toSeconds()
                    + " s; not touching it. Run the test when they are gone");
        }
        v1 = Files.isRegularFile(Path.of(CPUSET, "cpuset.cpus"));
        if (!v1) {
            notes.add("no cgroup v1 cpuset hierarchy at " + CPUSET + ": the profile uses cgroups.mode none and the cpuset"
                    + " checks are skipped (a v2 subtree cannot hold our sleep and enable cpuset below it at once)");
        }
        work = Files.createTempDirectory("vfio-e2e-");
        hooksBefore = snapshotTree(Path.of(HOOKS));
        runDirExisted = Files.exists(JOURNAL.getParent());
        logDirExisted = Files.exists(HOOK_LOG.getParent());
        hookLogStart = Files.exists(HOOK_LOG) ? Files.size(HOOK_LOG) : 0;

        // install exactly as a user would, from the shaded jar
        Cmd.Out install = Cmd.run(Duration.ofMinutes(3), "java", "-jar", jar.toString(), "install", "--prefix", prefix);
        installed = true;
        assertEquals(0, install.code(), install.out() + install.err());
        assertTrue(Files.isExecutable(Path.of(HOOKS, "qemu.d/vfio-orchestrator"))
                || Files.isExecutable(Path.of(HOOKS, "qemu")), install.out());
        // the class-data-sharing archive the shim starts the hook's JVM with (the hook calls below use it)
        Path archive = Path.of(prefix, "lib/vfio-orchestrator/vfio-orchestrator.jsa");
        assertTrue(Files.isRegularFile(archive) && install.out().contains("wrote " + archive), install.out() + install.err());

        // libvirt looks for hooks when it starts or reloads
        if (libvirtdWasRunning) {
            reloadLibvirtd();
        } else {
            startLibvirtd();
        }
        Cmd.Out version = virsh("version");
        Requires.that(version.ok(), "libvirtd cannot be reached at " + URI + ": " + version.err().strip());

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
        Files.writeString(work.resolve(vm + ".xml"), domainXml(vm, 1));
        Files.writeString(work.resolve(badVm + ".xml"), domainXml(badVm, 2));
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

    /** Boots nothing: SeaBIOS finds no boot device and waits, which is all a pinning test needs. */
    String domainXml(String name, int vcpus) {
        return "<domain type='qemu'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>64</memory>\n"
                + "  <vcpu placement='static'>" + vcpus + "</vcpu>\n"
                + "  <iothreads>1</iothreads>\n"
                + "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                + "  <devices>\n"
                + "    <emulator>" + qemuBinary + "</emulator>\n"
                + "    <memballoon model='none'/>\n"
                + "  </devices>\n"
                + "</domain>\n";
    }

    // ---- the tests ------------------------------------------------------------------------

    @Test
    @Order(1)
    void startingTheVmIsolatesCpu1AndDestroyingItRestoresTheHostByteForByte() throws Exception {
        ready();
        Map<String, String> before = hostState();
        Cmd.Out create = virsh("create", work.resolve(vm + ".xml").toString());
        assertEquals(0, create.code(), create.err() + "\nhook log:\n" + newHookLog());
        assertTrue(newHookLog().contains(vm + " prepare begin: "), "the hook did not run: libvirtd did not pick it up."
                + " Hook log:\n" + newHookLog());

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

        Cmd.Out destroy = virsh("destroy", vm);
        assertEquals(0, destroy.code(), destroy.err());
        waitFor(() -> !Files.exists(JOURNAL), Duration.ofSeconds(20), "the stop hooks to revert (journal gone)");
        assertEquals(before, hostState(), "host state after destroy differs from before start");
    }

    @Test
    @Order(2)
    void aBrokenProfileStopsTheStartWithOurMessageAndChangesNothing() throws Exception {
        ready();
        Map<String, String> before = hostState();
        Cmd.Out create = virsh("create", work.resolve(badVm + ".xml").toString());
        assertTrue(create.code() != 0, "started although the profile pins 1 vCPU and the domain has 2");
        assertTrue(create.err().contains("vfio-orchestrator: VM " + badVm + " not started: "), create.err());
        assertTrue(create.err().contains("<vcpu> is 2 but /etc/vfio-orchestrator/profiles/" + badVm + ".yaml pins 1 vCPUs"),
                create.err());
        assertFalse(virsh("list", "--name").out().contains(badVm));
        assertFalse(Files.exists(JOURNAL));
        assertEquals(before, hostState());
    }

    @Test
    @Order(3)
    void restartingLibvirtdWhileTheVmRunsKeepsItRunningAndRepinsADriftedThread() throws Exception {
        ready();
        List<String> foreign = weStartedLibvirtd ? List.of() : awaitNoForeignDomains();
        Requires.that(foreign.isEmpty(), "restarting libvirtd is only safe when it manages no domain but ours; it has "
                + String.join(", ", foreign) + " (waited " + FOREIGN_WAIT.toSeconds() + " s)");
        Map<String, String> before = hostState();
        Cmd.Out create = virsh("create", work.resolve(vm + ".xml").toString());
        assertEquals(0, create.code(), create.err());
        int pid = qemuPid(vm);
        int vcpu = threads(pid).entrySet().stream().filter(e -> e.getValue().startsWith("CPU 0/")).findFirst()
                .orElseThrow().getKey();
        assertEquals(CpuSet.of(1), affinity(pid, vcpu));
        // someone moves the vCPU thread away; libvirt's reconnect must not kill the VM, and the hook pins it back
        org.vfioorchestrator.host.HostFs.open(Path.of("/")).setThreadAffinity(vcpu, CpuSet.of(0, 1));
        assertEquals(CpuSet.of(0, 1), affinity(pid, vcpu));

        restartLibvirtd();
        waitFor(() -> virsh("domstate", vm).out().strip().equals("running"), Duration.ofSeconds(60), vm + " running again");
        assertEquals(pid, qemuPid(vm), "the same QEMU process: libvirt reconnected instead of restarting it");
        waitFor(() -> CpuSet.of(1).equals(affinity(pid, vcpu)), Duration.ofSeconds(60), "the reconnect hook to re-pin the vCPU");
        assertTrue(newHookLog().contains(vm + " reconnect begin: "), newHookLog());
        checkIsolated(before);

        assertEquals(0, virsh("destroy", vm).code());
        waitFor(() -> !Files.exists(JOURNAL), Duration.ofSeconds(20), "the stop hooks to revert (journal gone)");
        assertEquals(before, hostState());
    }

    /** The VM's threads, IRQs, workqueues and cpusets as the profile wants them. */
    void checkIsolated(Map<String, String> before) throws Exception {
        int pid = qemuPid(vm);
        Map<Integer, String> threads = threads(pid);
        assertTrue(threads.values().stream().anyMatch(n -> n.equals("CPU 0/TCG") || n.equals("CPU 0/KVM")), threads.toString());
        assertTrue(threads.containsValue("IO iothread1"), threads.toString());
        for (Map.Entry<Integer, String> t : threads.entrySet()) {
            CpuSet want = t.getValue().startsWith("CPU 0/") ? CpuSet.of(1) : CpuSet.of(0);
            assertEquals(want, affinity(pid, t.getKey()), "thread " + t.getKey() + " '" + t.getValue() + "'");
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
            assertEquals(CpuSet.of(0), CpuSet.parseList(statusField(Files.readString(Path.of("/proc/" + sleep.pid() + "/status")),
                    "Cpus_allowed_list")), "the cpuset confines our sleep to CPU 0");
        }
    }

    // ---- tear-down ------------------------------------------------------------------------

    @AfterAll
    void tearDown() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String d : List.of(vm, badVm)) {
            attempt(problems, "destroy " + d, () -> {
                if (virsh("domstate", d).out().strip().equals("running")) {
                    virsh("destroy", d);
                }
            });
        }
        attempt(problems, "revert what the journal still holds for the test's VMs", () -> {
            if (Files.exists(JOURNAL)) {
                String text = Files.readString(JOURNAL);
                for (String d : List.of(vm, badVm)) {
                    if (text.contains("\"" + d + "\"")) {
                        Main.run(new PrintWriter(System.err), new PrintWriter(System.err), "revert", d, "--force");
                        problems.add("the journal still listed " + d + " after the test; reverted it");
                    }
                }
            }
        });
        attempt(problems, "remove the test profiles", () -> {
            Files.deleteIfExists(PROFILES.resolve(vm + ".yaml"));
            Files.deleteIfExists(PROFILES.resolve(badVm + ".yaml"));
        });
        if (installed) {
            attempt(problems, "uninstall", () -> {
                Cmd.Out u = Cmd.run(Duration.ofMinutes(1), "java", "-jar", jar.toString(), "uninstall");
                if (u.code() != 0) {
                    problems.add("uninstall exited " + u.code() + ": " + u.out() + u.err());
                } else if (Files.exists(Path.of(prefix))) {
                    problems.add("uninstall left " + prefix + " behind: " + u.out());
                }
            });
        }
        attempt(problems, "stop or refresh libvirtd", () -> {
            if (weStartedLibvirtd && foreignDomains().isEmpty()) {
                stopLibvirtd();
                if (weStartedVirtlogd) {
                    pidOf("virtlogd").ifPresent(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroy));
                }
            } else if (weSignalledLibvirtd && foreignDomains().isEmpty()) {
                reloadLibvirtd(); // forget the hook it found: the hook directory is as before again
            }
        });
        attempt(problems, "remove the test cgroup", () -> {
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
        attempt(problems, "remove the tool's state and log directories the test created", () -> {
            if (!runDirExisted && !Files.exists(JOURNAL)) {
                deleteFilesAndDir(JOURNAL.getParent());
            }
            if (!logDirExisted) {
                deleteFilesAndDir(HOOK_LOG.getParent());
            }
        });
        if (hooksBefore != null) {
            attempt(problems, "compare " + HOOKS, () -> {
                Map<String, String> after = snapshotTree(Path.of(HOOKS));
                if (!after.equals(hooksBefore)) {
                    problems.add(HOOKS + " is not as before the test: before " + hooksBefore.keySet() + ", after " + after.keySet());
                }
            });
        }
        attempt(problems, "remove " + work, () -> {
            if (work != null) {
                deleteFilesAndDir(work);
            }
        });
        if (!problems.isEmpty()) {
            throw new AssertionError("clean-up: " + String.join("; ", problems));
        }
    }

    interface Step {
        void run() throws Exception;
    }

    static void attempt(List<String> problems, String what, Step step) {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            problems.add(what + ": " + e);
        }
    }

    static void deleteFilesAndDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    // ---- host state -----------------------------------------------------------------------

    /** Every IRQ's affinity, the default IRQ mask, the workqueue masks, and every readable file of the test cgroup. */
    Map<String, String> hostState() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/irq"))) {
            for (Path p : s.toList()) {
                Path list = p.resolve("smp_affinity_list");
                if (p.getFileName().toString().matches("\\d+") && Files.exists(list)) {
                    m.put(list.toString(), Files.readString(list));
                }
            }
        }
        m.put("/proc/irq/default_smp_affinity", read("/proc/irq/default_smp_affinity"));
        m.put(WQ + "/cpumask", read(WQ + "/cpumask"));
        if (Files.exists(Path.of(WQ, "writeback/cpumask"))) {
            m.put(WQ + "/writeback/cpumask", read(WQ + "/writeback/cpumask"));
        }
        if (v1) {
            m.putAll(snapshotTree(Path.of(cgroup)));
        }
        return m;
    }

    /** Files (content; unreadable ones skipped) and directories under {@code dir}; pressure averages drift on their own. */
    static Map<String, String> snapshotTree(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        if (!Files.exists(dir)) {
            return m;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                if (p.getFileName().toString().endsWith("memory_pressure")) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    m.put(p.toString(), "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    m.put(p.toString(), "<dir>");
                } else {
                    try {
                        m.put(p.toString(), new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1)
                                + " " + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
                    } catch (IOException e) {
                        // write-only control files
                    }
                }
            }
        }
        return m;
    }

    static String read(String path) throws IOException {
        return Files.readString(Path.of(path));
    }

    static List<String> lines(String path) throws IOException {
        return Files.readAllLines(Path.of(path)).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    String newHookLog() {
        try {
            if (!Files.exists(HOOK_LOG)) {
                return "";
            }
            byte[] all = Files.readAllBytes(HOOK_LOG);
            return new String(all, (int) Math.min(hookLogStart, all.length), (int) Math.max(0, all.length - hookLogStart),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + HOOK_LOG + ": " + e + ")";
        }
    }

    /** IRQs the kernel refused to move (managed), as the hook logged them. */
    Set<String> unmovableIrqs() {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("unmovable (/proc/irq/\\d+/smp_affinity_list)").matcher(newHookLog());
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    static int qemuPid(String name) throws IOException {
        return Integer.parseInt(Files.readString(Path.of("/run/libvirt/qemu/" + name + ".pid")).strip());
    }

    static Map<Integer, String> threads(int pid) throws IOException {
        Map<Integer, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : s.toList()) {
                out.put(Integer.parseInt(t.getFileName().toString()), Files.readString(t.resolve("comm")).strip());
            }
        }
        return out;
    }

    static CpuSet affinity(int pid, int tid) {
        try {
            return CpuSet.parseList(statusField(Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/status")),
                    "Cpus_allowed_list"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String statusField(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).strip();
            }
        }
        throw new AssertionError("no " + key + " in " + status);
    }

    // ---- libvirtd -------------------------------------------------------------------------

    static Cmd.Out virsh(String... args) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-q", "-c", URI));
        argv.addAll(List.of(args));
        return Cmd.run(Duration.ofMinutes(2), argv.toArray(String[]::new));
    }

    /** Domains libvirtd knows (running or defined) that are not this test's. */
    List<String> foreignDomains() {
        Cmd.Out list = virsh("list", "--all", "--name");
        if (!list.ok()) {
            return List.of("(cannot list domains: " + list.err().strip() + ")");
        }
        return list.out().lines().map(String::strip).filter(n -> !n.isEmpty() && !n.equals(vm) && !n.equals(badVm)).toList();
    }

    /** On a shared machine other people's VMs come and go: wait a while for a moment without them. */
    static final Duration FOREIGN_WAIT = Duration.ofSeconds(120);

    List<String> awaitNoForeignDomains() throws InterruptedException {
        long deadline = System.nanoTime() + FOREIGN_WAIT.toNanos();
        List<String> foreign = foreignDomains();
        while (!foreign.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            foreign = foreignDomains();
        }
        return foreign;
    }

    static boolean systemd() {
        return Files.isDirectory(Path.of("/run/systemd/system"));
    }

    static Optional<Long> libvirtdPid() {
        return pidOf("libvirtd");
    }

    static Optional<Long> pidOf(String comm) {
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.matches("\\d+")) {
                    try {
                        if (Files.readString(p.resolve("comm")).strip().equals(comm)) {
                            return Optional.of(Long.parseLong(name));
                        }
                    } catch (IOException e) {
                        // exited while we looked
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Optional.empty();
    }

    void startLibvirtd() throws Exception {
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(1), "systemctl", "start", "libvirtd").code());
        } else {
            if (pidOf("virtlogd").isEmpty()) {
                Cmd.daemon("virtlogd", "-d");
                weStartedVirtlogd = true;
            }
            Cmd.daemon("libvirtd", "-d");
        }
        weStartedLibvirtd = true;
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer");
    }

    /** SIGHUP: libvirtd looks for hooks again (and reloads its configuration); running VMs are not touched. */
    void reloadLibvirtd() throws Exception {
        weSignalledLibvirtd = true;
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(1), "systemctl", "reload", "libvirtd").code());
        } else {
            long pid = libvirtdPid().orElseThrow(() -> new AssertionError("libvirtd is not running"));
            assertEquals(0, Cmd.run(Duration.ofSeconds(10), "kill", "-HUP", Long.toString(pid)).code());
        }
        Thread.sleep(1500); // the reload runs in a thread of its own; it rescans the hooks first
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer after the reload");
    }

    void restartLibvirtd() throws Exception {
        weSignalledLibvirtd = true;
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(2), "systemctl", "restart", "libvirtd").code());
        } else {
            stopLibvirtd();
            Cmd.daemon("libvirtd", "-d");
        }
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer after the restart");
    }

    void stopLibvirtd() throws Exception {
        if (systemd()) {
            Cmd.run(Duration.ofMinutes(1), "systemctl", "stop", "libvirtd");
            return;
        }
        Optional<ProcessHandle> h = libvirtdPid().flatMap(ProcessHandle::of);
        if (h.isPresent()) {
            h.get().destroy(); // SIGTERM: libvirtd leaves running VMs alone when it exits
            waitFor(() -> !h.get().isAlive(), Duration.ofSeconds(60), "libvirtd to exit");
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check check, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    static Optional<Path> onPath(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static int uid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getUid();
    }

    /** The shaded jar 'mvn package' built; built here when missing (e.g. the test started from an IDE). */
    static Path locateJar() {
        String prop = System.getProperty("vfio.jar");
        Path jar = prop != null ? Path.of(prop)
                : Path.of(System.getProperty("repo.root", ".."), "orchestrator/target/vfio-orchestrator.jar");
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        Path repo = Path.of(System.getProperty("repo.root", ".."));
        if (onPath("mvn").isPresent() && Files.exists(repo.resolve("pom.xml"))) {
            Cmd.Out built = Cmd.run(Duration.ofMinutes(10), List.of("mvn", "-B", "-q", "-DskipTests", "package"), repo);
            if (built.ok() && Files.isRegularFile(jar)) {
                return jar;
            }
        }
        return null;
    }

    /** Runs a program from an argument array, stdin from /dev/null, output captured. */
    static final class Cmd {
        record Out(int code, String out, String err) {
            boolean ok() {
                return code == 0;
            }
        }

        static Out run(Duration timeout, String... argv) {
            return run(timeout, List.of(argv), null);
        }

        static Out run(Duration timeout, List<String> argv, Path cwd) {
            try {
                Path out = Files.createTempFile("e2e-out", ".txt");
                Path err = Files.createTempFile("e2e-err", ".txt");
                try {
                    ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                            .redirectOutput(out.toFile()).redirectError(err.toFile());
                    if (cwd != null) {
                        pb.directory(cwd.toFile());
                    }
                    Process p = pb.start();
                    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        p.destroyForcibly();
                        return new Out(-1, Files.readString(out), "timed out after " + timeout.toSeconds() + " s: " + argv);
                    }
                    return new Out(p.exitValue(), Files.readString(out), Files.readString(err));
                } finally {
                    Files.deleteIfExists(out);
                    Files.deleteIfExists(err);
                }
            } catch (IOException e) {
                return new Out(-1, "", argv.get(0) + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Out(-1, "", "interrupted");
            }
        }

        /** Starts a daemon that forks itself into the background ('-d'), holding none of our pipes. */
        static void daemon(String... argv) throws Exception {
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), argv[0] + " did not go into the background");
            assertEquals(0, p.exitValue(), argv[0] + " -d failed");
        }
    }
}
