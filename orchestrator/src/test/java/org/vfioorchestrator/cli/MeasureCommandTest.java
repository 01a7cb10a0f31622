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
                + " ([VM [--cpus=CPUS]] | [--probe=CPUS [--probe-tool=TOOL]])\n"), neither.err());
        CliRun both = run("measure", "win", "--probe", "1", "--host-root", dir.toString());
        assertEquals(2, both.code());
        assertTrue(both.err().startsWith("measure: [VM [--cpus=CPUS]] and [--probe=CPUS [--probe-tool=TOOL]] are"
                + " mutually exclusive (specify only one)\n"), both.err());
        CliRun badCpus = run("measure", "--probe", "3-1");
        assertEquals(2, badCpus.code());
        assertTrue(badCpus.err().contains("reversed"), badCpus.err());
        CliRun tool = run("measure", "--probe", "1", "--probe-tool", "perf", "--host-root", dir.toString());
        assertEquals(2, tool.code());
        assertTrue(tool.err().startsWith("measure: Invalid value for option '--probe-tool': expected one of"
                + " [AUTO, CYCLICTEST, OSLAT, JAVA] (case-insensitive) but was 'perf'\n"), tool.err());
        assertFalse(tool.err().contains("\tat "), "no stack trace");
    }

    /** What goes with a VM and what with a probe is picocli's model, so the usage shows it and the parser enforces it. */
    @Test
    void optionsOfTheOtherFormAreRefused() throws Exception {
        tree();
        CliRun probeToolOnVm = run("measure", "win", "--probe-tool", "oslat", "--duration", "1s", "--no-save",
                "--host-root", dir.toString());
        assertEquals(2, probeToolOnVm.code(), probeToolOnVm.err());
        assertEquals("", probeToolOnVm.out());
        CliRun cpusOnProbe = run("measure", "--probe", "1", "--cpus", "0", "--host-root", dir.toString());
        assertEquals(2, cpusOnProbe.code(), cpusOnProbe.err());
        CliRun help = run("measure", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("([VM [--cpus=CPUS]] |\n") && help.out().contains(" [--probe=CPUS [--probe-tool=TOOL]])\n"),
                help.out());
        assertTrue(help.out().contains("--probe-tool=TOOL   auto, cyclictest, oslat, java: auto is cyclictest"), help.out());
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
}
