package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.Requires;

/** {@code measure} through {@link Main#run}, as a user types it. */
class MeasureCommandTest {
    @TempDir
    Path dir;

    /** A host tree with VM "win": QEMU pid 100, one vCPU thread on CPU 1. */
    void tree() throws Exception {
        w("sys/devices/system/cpu/online", "0-1\n");
        w("run/libvirt/qemu/win.pid", "100\n");
        String[] f = new String[50];
        java.util.Arrays.fill(f, "0");
        f[0] = "S";
        f[36] = "1";
        w("proc/100/task/101/comm", "CPU 0/KVM\n");
        w("proc/100/task/101/stat", "101 (CPU 0/KVM) " + String.join(" ", f) + "\n");
        w("proc/100/task/101/schedstat", "1000 2000 3\n");
        w("proc/100/task/101/status", "Name:\tCPU 0/KVM\nCpus_allowed:\t2\nCpus_allowed_list:\t1\nnonvoluntary_ctxt_switches:\t4\n");
        w("proc/interrupts", "           CPU0       CPU1\n  45:          0          7  IR-PCI-MSIX  3-edge  nvme0q3\n");
        w("proc/softirqs", "                    CPU0       CPU1\n       TIMER:          1          2\n");
    }

    void w(String rel, String content) throws Exception {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    @Test
    void unknownVmIsExit1WithOneLine() throws Exception {
        tree();
        CliRun r = run("measure", "nope", "--duration", "1s", "--host-root", dir.toString());
        assertEquals(1, r.code());
        assertEquals("vfio-orchestrator measure: VM nope is not running: no live QEMU behind /run/libvirt/qemu/nope.pid; start it, then measure\n",
                r.err());
        assertEquals("", r.out());
    }

    @Test
    void badDurationIsAUsageError() throws Exception {
        tree();
        CliRun r = run("measure", "win", "--duration", "soon", "--host-root", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("measure: Invalid value for option '--duration': 'soon' is not a duration; write it like 500ms"),
                r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
        assertEquals(2, run("measure", "win", "--duration", "0s", "--host-root", dir.toString()).code());
    }

    @Test
    void vmOrProbeButNotBothNorNeither() throws Exception {
        tree();
        CliRun neither = run("measure", "--host-root", dir.toString());
        assertEquals(2, neither.code());
        assertTrue(neither.err().startsWith("measure: Missing required argument (specify one of these):"
                + " ([VM [--cpus=CPUS] [--in-guest] [--agent-wait=TIME]] | [--probe=CPUS [--for=VM | --domain=FILE]])\n"),
                neither.err());
        CliRun both = run("measure", "win", "--probe", "1", "--host-root", dir.toString());
        assertEquals(2, both.code());
        assertTrue(both.err().startsWith("measure: [VM [--cpus=CPUS] [--in-guest] [--agent-wait=TIME]] and [--probe=CPUS [--for=VM | --domain=FILE]] are"
                + " mutually exclusive (specify only one)\n"), both.err());
        CliRun badCpus = run("measure", "--probe", "3-1");
        assertEquals(2, badCpus.code());
        assertTrue(badCpus.err().contains("reversed"), badCpus.err());
        CliRun tool = run("measure", "--probe", "1", "--tool", "perf", "--host-root", dir.toString());
        assertEquals(2, tool.code());
        assertTrue(tool.err().startsWith("measure: Invalid value for option '--tool': expected one of"
                + " [AUTO, CYCLICTEST, OSLAT, JAVA] (case-insensitive) but was 'perf'\n"), tool.err());
        assertFalse(tool.err().contains("\tat "), "no stack trace");
    }

    /** What goes with a VM and what with a probe is picocli's model, so the usage shows it and the parser enforces it. */
    @Test
    void optionsOfTheOtherFormAreRefused() throws Exception {
        tree();
        CliRun probeToolOnVm = run("measure", "win", "--tool", "oslat", "--duration", "1s", "--no-save",
                "--host-root", dir.toString());
        assertEquals(2, probeToolOnVm.code(), probeToolOnVm.err());
        assertEquals("vfio-orchestrator measure: --tool, --policy and --agent-wait go with --in-guest or --probe: 'measure"
                + " VM' alone samples the VM's threads from the host and runs no tool\n", probeToolOnVm.err());
        assertEquals("", probeToolOnVm.out());
        assertEquals(2, run("measure", "win", "--policy", "fifo", "--duration", "1s", "--no-save",
                "--host-root", dir.toString()).code());
        CliRun forOnVm = run("measure", "win", "--for", "win", "--host-root", dir.toString());
        assertEquals(2, forOnVm.code(), forOnVm.err());
        assertEquals(2, run("measure", "win", "--agent-wait", "1m", "--duration", "1s", "--no-save",
                "--host-root", dir.toString()).code());
        CliRun inGuestOnProbe = run("measure", "--probe", "1", "--in-guest");
        assertEquals(2, inGuestOnProbe.code(), inGuestOnProbe.err());
        CliRun inGuestInATree = run("measure", "win", "--in-guest", "--duration", "1s", "--host-root", dir.toString());
        assertEquals(2, inGuestInATree.code(), inGuestInATree.err());
        assertEquals("vfio-orchestrator measure: --in-guest asks the VM's guest agent through libvirt; a VM of the tree at "
                + dir + " has no guest to ask (drop --host-root)\n", inGuestInATree.err());
        CliRun cpusOnProbe = run("measure", "--probe", "1", "--cpus", "0", "--host-root", dir.toString());
        assertEquals(2, cpusOnProbe.code(), cpusOnProbe.err());
        CliRun help = run("measure", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("--tool=TOOL         auto, cyclictest, oslat, java: what measures the"), help.out());
        assertTrue(help.out().contains("--policy=POLICY     other, fifo: the scheduling policy of the tool's"), help.out());
    }

    @Test
    void probeRefusesAHostTree() throws Exception {
        tree();
        CliRun r = run("measure", "--probe", "1", "--host-root", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("vfio-orchestrator measure: --probe runs programs on this machine"), r.err());
    }

    @Test
    void measuresAVmInATreeAndKeepsTheReportThere() throws Exception {
        tree();
        Path png = dir.resolve("plot.png");
        CliRun r = run("measure", "win", "--duration", "1s", "--json", "--plot", png.toString(), "--compare",
                "--host-root", dir.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> json = JSON.std.mapFrom(r.out());
        assertEquals("win", json.get("subject"));
        assertEquals("vm", json.get("kind"));
        assertTrue(Files.size(png) > 1000);
        assertTrue(r.err().contains("no earlier report of win to compare with"), r.err());
        assertTrue(r.err().contains("report kept in " + dir.resolve("var/lib/vfio-orchestrator/reports/win")), r.err());
        try (var files = Files.list(dir.resolve("var/lib/vfio-orchestrator/reports/win"))) {
            assertEquals(3, files.count(), "json, txt and png");
        }
    }

    /** The probe runs as the VM's vCPUs would: SCHED_OTHER without <vcpusched>, and says so. */
    @Test
    void theProbesPolicyComesFromTheVmsVcpuschedAndTheReportSaysWhich() throws Exception {
        Requires.that(Files.exists(Path.of("/proc/thread-self/stat")), "needs Linux /proc");
        w("plain.xml", "<domain type='kvm'><name>plain</name><vcpu>1</vcpu></domain>");
        w("rt.xml", "<domain type='kvm'><name>rt</name><vcpu>1</vcpu><cputune>"
                + "<vcpusched vcpus='0' scheduler='fifo' priority='20'/></cputune></domain>");
        CliRun plain = run("measure", "--probe", "0", "--tool", "java", "--duration", "1s", "--no-save",
                "--domain", dir.resolve("plain.xml").toString());
        assertEquals(0, plain.code(), plain.err());
        assertTrue(plain.err().startsWith("measure: probing CPUs 0 for 1s as SCHED_OTHER ...\n"), plain.err());
        assertTrue(plain.out().contains("\nPolicy: other (plain has no <vcpusched>: its vCPU threads run SCHED_OTHER)\n"),
                plain.out());

        CliRun rt = run("measure", "--probe", "0", "--tool", "java", "--duration", "1s", "--no-save",
                "--domain", dir.resolve("rt.xml").toString());
        assertEquals(2, rt.code(), rt.err());
        assertEquals("vfio-orchestrator measure: the built-in busy loop (--tool java) runs SCHED_OTHER only, and the probe"
                + " is to run SCHED_FIFO priority 20 (rt's <vcpusched scheduler='fifo' priority='20'>): use --tool"
                + " cyclictest or oslat (rt-tests), or --policy other\n", rt.err().lines().skip(1).findFirst().orElse("") + "\n");
    }
}
