package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.topology.HwlocFixtures;
import org.vfioorchestrator.testing.Requires;

/** doctor and suggest through {@link Main#run}: output, exit codes, user errors. */
class DoctorCommandTest {
    @TempDir
    Path tmp;

    static String example(String name) {
        return Path.of(System.getProperty("repo.root", "."), "examples", "domains", "doctor", name).toString();
    }

    @Test
    void textGroupsBySeverityWithoutColourWhenNotATerminal() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        CliRun r = run("doctor", "--domain", example("ide-default-cache.xml"), "--host-root", host.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("doctor: legacy-ide ("), r.out());
        assertTrue(r.out().contains("\nWarnings (5)\n  disk.emulated-bus\n    evidence: disk hda (ide, file"), r.out());
        assertTrue(r.out().contains("    fix:      <target dev='vda' bus='virtio'/>"), r.out());
        assertFalse(r.out().contains("\u001b["), "no escape codes when stdout is not a terminal");
        assertTrue(run("doctor", "--domain", example("ide-default-cache.xml"), "--host-root", host.toString(),
                "--color", "always").out().contains("\u001b[1m\u001b[33mWarnings (5)\u001b[39m\u001b[21m\u001b[0m"));
        CliRun badColour = run("doctor", "--domain", example("ide-default-cache.xml"), "--color", "sometimes");
        assertEquals(2, badColour.code());
        assertTrue(badColour.err().startsWith("doctor: Invalid value for option '--color': expected one of"
                + " [AUTO, ALWAYS, NEVER] (case-insensitive) but was 'sometimes'\n"), badColour.err());
        assertTrue(run("doctor", "--help").out().contains("--color=WHEN      auto, always, never: auto colours"));
    }

    @Test
    void jsonAndExitCodes() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        CliRun r = run("doctor", "--domain", example("sparse-native.xml"), "--host-root", host.toString(), "--json");
        assertEquals(1, r.code(), r.err());
        Map<String, Object> doc = JSON.std.mapFrom(r.out());
        assertEquals("sparse-native", doc.get("domain"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> findings = (List<Map<String, Object>>) doc.get("findings");
        Map<String, Object> first = findings.get(0);
        assertEquals("error", first.get("severity"));
        assertEquals("disk.native-without-direct", first.get("id"));
        assertTrue(first.keySet().containsAll(List.of("evidence", "why", "fix")));
        assertEquals(1, doc.get("exit_code"));
    }

    @Test
    void nothingAtWarningMeansExitZero(@TempDir Path root) throws Exception {
        // the hybrid capture: vCPUs on P-core pairs 2-9, host keeps 0-1 and the E-cores
        String xml = Files.readString(Path.of(example("tuned.xml")))
                .replaceAll("<vcpu placement='static'>12</vcpu>", "<vcpu placement='static'>8</vcpu>")
                .replaceAll("(?s)<cputune>.*</cputune>", "<cputune>"
                        + "<vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/><vcpupin vcpu='2' cpuset='4'/>"
                        + "<vcpupin vcpu='3' cpuset='5'/><vcpupin vcpu='4' cpuset='6'/><vcpupin vcpu='5' cpuset='7'/>"
                        + "<vcpupin vcpu='6' cpuset='8'/><vcpupin vcpu='7' cpuset='9'/><emulatorpin cpuset='0-1'/>"
                        + "<iothreadpin iothread='1' cpuset='0-1'/></cputune>")
                .replace("cores='6' threads='2'", "cores='4' threads='2'");
        Path file = root.resolve("vm.xml");
        Files.writeString(file, xml);
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        CliRun r = run("doctor", "--domain", file.toString(), "--host-root", host.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("Info ("), "the capture's /proc/cmdline has no isolation: info only\n" + r.out());
        assertFalse(r.out().contains("Warnings"), r.out());
    }

    @Test
    void profileGoesThroughTheProfileLoader() throws Exception {
        Path host = tmp.resolve("rig");
        org.vfioorchestrator.testing.HostTreeGenerator.generate(org.vfioorchestrator.testing.HostSpec.gamingRig(), host);
        String profile = Path.of(System.getProperty("repo.root", "."), "examples", "profiles", "win11.yaml").toString();
        CliRun r = run("doctor", "--domain", example("tuned.xml"), "--profile", profile, "--host-root", host.toString(),
                "--json");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("\"id\" : \"vcpus.count-vs-profile\""), r.out());
        assertTrue(r.out().contains("\"id\" : \"cputune.disagrees-with-profile\""), r.out());
    }

    @Test
    void userErrors() throws Exception {
        CliRun none = run("doctor");
        assertEquals(2, none.code());
        assertTrue(none.err().startsWith("doctor: Missing required argument (specify one of these):"
                + " ([VM [--connect=URI]] | [--domain=FILE])\n"), none.err());
        CliRun both = run("doctor", "win11", "--domain", example("tuned.xml"));
        assertEquals(2, both.code());
        assertTrue(both.err().startsWith("doctor: [VM [--connect=URI]] and [--domain=FILE] are mutually exclusive (specify only one)\n"), both.err());
        CliRun connectWithFile = run("doctor", "--domain", example("tuned.xml"), "--connect", "qemu:///session");
        assertEquals(2, connectWithFile.code(), "--connect goes with a VM name, not a file: " + connectWithFile.err());

        CliRun missing = run("doctor", "--domain", tmp.resolve("nope.xml").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("vfio-orchestrator doctor: " + tmp.resolve("nope.xml") + ": no such file"), missing.err());

        Path evil = tmp.resolve("evil.xml");
        Files.writeString(evil, "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>");
        CliRun xxe = run("doctor", "--domain", evil.toString());
        assertEquals(1, xxe.code());
        assertTrue(xxe.err().contains("a DOCTYPE is not allowed"), xxe.err());
        assertFalse(xxe.err().contains("Exception"), "no stack trace: " + xxe.err());
    }

    @Test
    @Tag("libvirt")
    void readsTheDomainFromLibvirtByName() {
        // libvirt's built-in test driver needs no daemon, only libvirt.so
        Requires.that(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libvirt.so.0"))
                || Files.exists(Path.of("/usr/lib64/libvirt.so.0")), "needs libvirt's C library (libvirt0)");
        CliRun r = run("doctor", "test", "--connect", "test:///default", "--json");
        assertTrue(r.code() == 0 || r.code() == 1, r.err());
        assertTrue(r.out().contains("\"domain\" : \"test\""), r.out());

        CliRun nope = run("doctor", "no-such-vm", "--connect", "test:///default");
        assertEquals(1, nope.code());
        assertEquals("vfio-orchestrator doctor: libvirt at test:///default has no domain named 'no-such-vm'; 'virsh list --all' shows"
                + " the names\n", nope.err());
    }

    @Test
    void suggestWritesTheProfileAndPrintsCputune() throws Exception {
        Path host = HwlocFixtures.unpack(HwlocFixtures.HYBRID_20, tmp);
        Path out = tmp.resolve("win11.yaml");
        CliRun r = run("suggest", "--domain", example("sparse-native.xml"), "--host-root", host.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("suggest: wrote " + out + "\n", r.err());
        assertTrue(r.out().contains("<vcpupin vcpu='7' cpuset='9'/>"), r.out());
        String yaml = Files.readString(out);
        assertTrue(yaml.contains("  pin: [2, 3, 4, 5, 6, 7, 8, 9]"), yaml);

        CliRun tooMany = run("suggest", "--domain", example("win11-gaming.xml"), "--host-root", host.toString());
        assertEquals(1, tooMany.code());
        assertTrue(tooMany.err().contains("win11-gaming has 12 vCPUs, but at most 10 fit"), tooMany.err());

        CliRun again = run("suggest", "--domain", example("sparse-native.xml"), "--host-root", host.toString(),
                "--output", out.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("exists; choose another --output or add --force"), again.err());

        CliRun badGpu = run("suggest", "--domain", example("win11-gaming.xml"), "--host-root", host.toString(),
                "--gpu", "nvidia");
        assertEquals(2, badGpu.code());
        assertTrue(badGpu.err().startsWith("vfio-orchestrator suggest: --gpu nvidia: not a PCI address"), badGpu.err());
    }
}
