package org.vfioorchestrator.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;

/** The hook's exit codes and effects per libvirt operation, on a generated host with VM "tiny" running. */
class HookRunnerTest {
    private static final String PROFILE = """
            host_cpus: 0,2
            vcpus:
              pin: [1, 3]
            governor: performance
            measure:
              after_start: true
              duration: 5s
            """;
    private static final String XML = "<domain type='kvm'><name>tiny</name><vcpu>2</vcpu></domain>";

    @TempDir
    Path dir;

    private Path root;
    private HostFs host;
    private TreeSnapshot original;
    private final List<String> measurements = new ArrayList<>();
    private final StringWriter err = new StringWriter();
    /** The shim's pipe to logger, as the hook sees it. */
    private final ByteArrayOutputStream syslog = new ByteArrayOutputStream();

    @BeforeEach
    void host() throws Exception {
        root = dir.resolve("host");
        HostTreeGenerator.generate(HostSpec.builder().cpus(4).threadsPerCore(2).cpusPerL3(4).numaNodes(1).packages(1)
                .irqs(16).nvmeQueues(2).processes(5).cgroup(HostSpec.Cgroup.V2).cpusetController(false)
                .cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil").cpuidle(true)
                .irqbalance(false, null).vm("tiny", 2, 1).seed(3).build(), root);
        host = HostFs.open(root);
        writeProfile(PROFILE);
        original = TreeSnapshot.of(root);
    }

    private void writeProfile(String yaml) throws Exception {
        Path file = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, yaml);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private int hook(String... argv) {
        return hookWithXml(XML, argv);
    }

    private int hookWithXml(String xml, String... argv) {
        return new HookRunner(host, new PrintWriter(err, true), (vm, d) -> measurements.add(vm + " " + d.duration().toSeconds()), syslog)
                .run(List.of(argv), new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private String governor(int cpu) throws Exception {
        return Files.readString(root.resolve("sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor")).strip();
    }

    private CpuSet vcpu0() {
        QemuThread t = QemuProcess.find(host, "tiny").orElseThrow().threads(ThreadRole.VCPU).get(0);
        return host.threadAffinity(t.tid());
    }

    @Test
    void aFullStartAndStopChangesTheHostAndPutsItBackExactly() throws Exception {
        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        assertEquals("performance", governor(1));
        assertEquals(CpuSet.parseList("0-3"), vcpu0(), "prepare does not pin: QEMU is not up yet");
        assertEquals(0, hook("tiny", "start", "begin", "-"));
        assertEquals(0, hook("tiny", "started", "begin", "-"));
        assertEquals(CpuSet.of(1), vcpu0());
        assertEquals(List.of("tiny 5"), measurements, "the post-start measurement was launched");
        assertEquals(0, hook("tiny", "stopped", "end", "-"));
        assertEquals(0, hook("tiny", "release", "end", "-"), "release after stopped is a no-op");
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)));
        assertEquals("", err.toString());
        String log = Files.readString(root.resolve("var/log/vfio-orchestrator/hook.log"));
        assertTrue(log.contains("tiny prepare begin: set /sys/devices/system/cpu/cpu1/cpufreq/scaling_governor: schedutil -> performance"), log);
        assertTrue(log.contains("tiny release end") || log.contains("tiny stopped end: restored"), log);
        List<String> withoutTime = log.lines().map(l -> l.substring(l.indexOf(' ') + 1)).toList();
        assertEquals(withoutTime, syslog.toString(StandardCharsets.UTF_8).lines().toList(),
                "syslog gets every line of the log file, without the time stamp (syslog adds its own)");
    }

    @Test
    void aBrokenProfileFailsPrepareWithOneMessageAndChangesNothing() throws Exception {
        writeProfile("host_cpus: 0,2\nvcpus:\n  pin: [1, 2]\n");
        TreeSnapshot before = TreeSnapshot.of(root);
        assertEquals(1, hook("tiny", "prepare", "begin", "-"));
        assertEquals("vfio-orchestrator: VM tiny not started: " + root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml")
                + ":3:12: vcpus.pin[1]: CPU 2 is also in host_cpus (0,2); a vCPU needs a CPU the host gives up; remove it from one of them\n",
                err.toString());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aDomainWithAnotherVcpuCountFailsPrepare() throws Exception {
        assertEquals(1, hookWithXml("<domain type='kvm'><name>tiny</name><vcpu>4</vcpu></domain>", "tiny", "prepare", "begin", "-"));
        assertTrue(err.toString().contains("<vcpu> is 4 but"), err.toString());
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aProfileForAnotherVmIsRefusedAtPrepareAndStartedUnderLibvirtsName() throws Exception {
        // issue 18 item 2: 'vm: other' in tiny.yaml isolated the host as VM 'other'; stopping 'tiny' restored nothing
        writeProfile("vm: other\n" + PROFILE);
        TreeSnapshot before = TreeSnapshot.of(root);
        String profile = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml").toString();
        String refusal = "vfio-orchestrator: VM tiny not started: " + profile + " is for VM 'other', not 'tiny'; write vm: tiny"
                + " in it, or leave vm: out and name the file tiny.yaml\n";
        String otherXml = XML.replace("<name>tiny</name>", "<name>other</name>");
        assertEquals(1, hookWithXml(otherXml, "tiny", "prepare", "begin", "-"));
        assertEquals(refusal, err.toString());
        err.getBuffer().setLength(0);
        assertEquals(1, hookWithXml(otherXml, "tiny", "started", "begin", "-"));
        // prepare applied nothing, so started has nothing to revert and must not claim it did
        assertEquals(refusal.replace("\n", " Nothing was changed on the host.\n"), err.toString());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "nothing was isolated, under either name");
        assertFalse(Files.exists(root.resolve("run/vfio-orchestrator/journal.json")));
    }

    @Test
    void startedChecksTheDomainXmlAndAStopRestoresWhatWasAppliedForLibvirtsName() throws Exception {
        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        assertEquals(1, hookWithXml(XML.replace("<name>tiny</name>", "<name>other</name>"), "tiny", "started", "begin", "-"));
        assertEquals("vfio-orchestrator: VM tiny not started: the domain XML from libvirt: the domain is 'other' but "
                + root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml") + " is for 'tiny'; name the profile after the domain"
                + " (other.yaml) or set vm: other The host side was reverted.\n", err.toString());
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)), "started reverted what prepare applied");

        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        assertEquals(0, hook("tiny", "started", "begin", "-"));
        writeProfile("vm: other\n" + PROFILE); // edited while the VM runs
        assertEquals(0, hook("tiny", "stopped", "end", "-"));
        writeProfile(PROFILE);
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)), "the stop restored what was applied for 'tiny'");
    }

    @Test
    void aStartedRefusedAfterSomeoneChangedAValueSaysWhatTheRevertLeft() throws Exception {
        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        Files.writeString(root.resolve("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor"), "powersave\n"); // someone else
        assertEquals(1, hookWithXml(XML.replace("<name>tiny</name>", "<name>other</name>"), "tiny", "started", "begin", "-"));
        assertEquals("vfio-orchestrator: VM tiny not started: the domain XML from libvirt: the domain is 'other' but "
                + root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml") + " is for 'tiny'; name the profile after the domain"
                + " (other.yaml) or set vm: other The host side was reverted except 1 setting"
                + " (/var/log/vfio-orchestrator/hook.log names it); finish with: vfio-orchestrator revert tiny\n", err.toString());
        assertTrue(Files.readString(root.resolve("var/log/vfio-orchestrator/hook.log"))
                .contains("drift /sys/devices/system/cpu/cpu1/cpufreq/scaling_governor: "), "the log names it");
    }

    @Test
    void aVmWithoutProfileIsNotOurs() throws Exception {
        for (String[] op : List.of(new String[] {"prepare", "begin"}, new String[] {"started", "begin"},
                new String[] {"release", "end"}, new String[] {"reconnect", "begin"})) {
            assertEquals(0, hook("other", op[0], op[1], "-"));
        }
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)));
        assertFalse(Files.exists(root.resolve("var/log/vfio-orchestrator/hook.log")));
    }

    @Test
    void operationsThatMustNotFailExitZeroWhateverHappens() throws Exception {
        writeProfile("this: is: not: yaml: [");
        for (String[] op : List.of(new String[] {"release", "end"}, new String[] {"stopped", "end"},
                new String[] {"reconnect", "begin"}, new String[] {"migrate", "begin"}, new String[] {"restore", "begin"},
                new String[] {"attach", "begin"}, new String[] {"something-new", "begin"})) {
            assertEquals(0, hook("tiny", op[0], op[1], "-"), String.join(" ", op));
        }
        assertEquals("", err.toString());
    }

    @Test
    void reconnectRepinsThreadsThatDriftedAndKeepsTheVmRunning() throws Exception {
        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        assertEquals(0, hook("tiny", "started", "begin", "-"));
        QemuThread t = QemuProcess.find(host, "tiny").orElseThrow().threads(ThreadRole.VCPU).get(0);
        host.setThreadAffinity(t.tid(), CpuSet.parseList("0-3")); // drifted while libvirtd was away
        assertEquals(0, hook("tiny", "reconnect", "begin", "-"));
        assertEquals(CpuSet.of(1), vcpu0());
        assertEquals(0, hook("tiny", "release", "end", "-"));
        assertEquals(List.of(), original.differences(TreeSnapshot.of(root)));
    }

    @Test
    void reconnectKeepsTheProfileTheVmWasStartedWith() throws Exception {
        assertEquals(0, hook("tiny", "prepare", "begin", "-"));
        assertEquals(0, hook("tiny", "started", "begin", "-"));
        writeProfile(PROFILE.replace("pin: [1, 3]", "pin: [3, 1]")); // edited while the VM runs
        assertEquals(0, hook("tiny", "reconnect", "begin", "-"));
        assertEquals(CpuSet.of(1), vcpu0(), "the edit takes effect at the next start, not mid-run");
        assertEquals(0, hook("tiny", "release", "end", "-"));
    }

    @Test
    void unsafeVmNamesFailPrepareAndAreIgnoredElsewhere() {
        assertEquals(1, hook("../etc", "prepare", "begin", "-"));
        assertTrue(err.toString().startsWith("vfio-orchestrator: VM ../etc not started: VM name '../etc' is not supported"),
                err.toString());
        assertEquals(0, hook("../etc", "release", "end", "-"));
    }

    @Test
    void wrongArgumentCountsAreUsageErrors() {
        assertEquals(2, hook("tiny", "prepare"));
        assertEquals(2, hook("tiny", "prepare", "begin", "-", "extra"));
    }

    @Test
    void theEntryPointTakesAHostRoot() {
        StringWriter e = new StringWriter();
        int code = HookMain.run(new PrintWriter(e, true), new ByteArrayInputStream(new byte[0]),
                List.of("--host-root", root.toString(), "tiny", "migrate", "begin", "-"));
        assertEquals(0, code);
        assertEquals("", e.toString());
    }
}
