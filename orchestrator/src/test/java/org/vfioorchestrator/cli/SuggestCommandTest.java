package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;

/** The profile suggest writes, used unedited: what it holds, and that plan confines the host with it. */
class SuggestCommandTest {
    @TempDir
    Path tmp;

    Path host(HostSpec spec) throws Exception {
        Path root = tmp.resolve("host");
        HostTreeGenerator.writeCached(spec, root);
        return root;
    }

    Path domain(String type, int vcpus) throws Exception {
        Path xml = tmp.resolve("vm.xml");
        Files.writeString(xml, "<domain type='" + type + "'><name>vm</name><vcpu placement='static'>" + vcpus
                + "</vcpu><iothreads>1</iothreads></domain>\n");
        return xml;
    }

    /** The lines that are not comments. */
    static List<String> keys(String yaml) {
        return yaml.lines().filter(l -> !l.strip().startsWith("#") && !l.isBlank())
                .map(l -> l.contains("   #") ? l.substring(0, l.indexOf("   #")).stripTrailing() : l.stripTrailing())
                .map(l -> l.contains(" #") ? l.substring(0, l.indexOf(" #")).stripTrailing() : l).toList();
    }

    /** Issue 18 item 9: only what differs from the loader's defaults, so no cgroups (nor irqs, measure, ...). */
    @Test
    void writesOnlyWhatDiffersFromTheDefaults() throws Exception {
        Path root = host(HostSpec.gamingRig());
        Path out = tmp.resolve("vm.yaml");
        CliRun r = run("suggest", "--domain", domain("kvm", 12).toString(), "--host-root", root.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(
                "host_cpus: 0-7,14-23,30-31",
                "vcpus:",
                "  pin: [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29]",
                "emulator_cpus: 0-1,16-17",
                "governor: performance",
                "cstates:",
                "  method: pm_qos",
                "  max_latency_us: 0"), keys(Files.readString(out)));
    }

    /** On cgroup v1 the profile, unedited, confines the host's processes (it switched cpusets off before). */
    @Test
    void theProfileConfinesTheHostOnCgroupV1() throws Exception {
        Path root = host(HostSpec.builder().cpus(8).irqs(0).processes(6).cgroup(HostSpec.Cgroup.V1).build());
        Path out = tmp.resolve("vm.yaml");
        assertEquals(0, run("suggest", "--domain", domain("kvm", 2).toString(), "--host-root", root.toString(),
                "--output", out.toString()).code());
        CliRun plan = run("plan", out.toString(), "--host-root", root.toString());
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("/sys/fs/cgroup/cpuset/vfio-host/cgroup.procs"), plan.out());
        assertFalse(plan.out().contains("not confined"), plan.out());
    }

    /** plan with a two-vCPU profile whose cgroups section is {@code cgroups}. */
    CliRun planWith(Path host, String cgroups) throws Exception {
        Path profile = tmp.resolve("vm.yaml");
        Files.writeString(profile, "host_cpus: 0,4\nvcpus: {pin: [1, 5]}\ncgroups: " + cgroups + "\n");
        return run("plan", profile.toString(), "--host-root", host.toString());
    }

    /** Issue 18 item 9: a plan never skips the host's cpuset hierarchy because the profile points elsewhere. */
    @Test
    void aProfileThatMissesTheHostsCpusetHierarchyIsRefusedWithTheFix() throws Exception {
        Path v1 = host(HostSpec.builder().cpus(8).irqs(0).processes(6).cgroup(HostSpec.Cgroup.V1).build());
        CliRun v2OnV1 = planWith(v1, "{mode: v2}");
        assertEquals(1, v2OnV1.code(), v2OnV1.out());
        assertEquals("vfio-orchestrator plan: cgroups: /sys/fs/cgroup is not a cgroup v2 directory (no cgroup.controllers),"
                + " but this host has a cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset, and without it every host"
                + " process stays free to run on the VM's CPUs; leave cgroups.mode and cgroups.root out of the profile"
                + " (auto finds it), or write cgroups.mode: none to confine nothing\n", v2OnV1.err());
        CliRun none = planWith(v1, "{mode: none}");
        assertEquals(0, none.code(), none.err());
        assertTrue(none.out().contains("processes are not confined to the host CPUs: cgroups.mode is none"), none.out());

        HostTreeGenerator.writeCached(HostSpec.builder().cpus(8).irqs(0).processes(6).cgroup(HostSpec.Cgroup.V2).build(),
                tmp.resolve("v2"));
        CliRun v1OnV2 = planWith(tmp.resolve("v2"), "{mode: v1}");
        assertEquals(1, v1OnV2.code(), v1OnV2.out());
        assertTrue(v1OnV2.err().startsWith("vfio-orchestrator plan: cgroups: /sys/fs/cgroup/cpuset is not a cgroup v1 cpuset"
                + " directory (no cpuset.cpus and tasks), but this host has cgroup v2 with the cpuset controller at"
                + " /sys/fs/cgroup"), v1OnV2.err());
    }

    /**
     * Issue 16 item 3, on this machine's shape (2 CPUs, a 1-vCPU TCG guest): the profile suggest writes
     * leaves the emulator to its default, which under TCG is vCPU 0's CPU, the placement that held the
     * guest at its idle latency; under KVM the same default is the host's CPU.
     */
    @Test
    void underTcgTheEmulatorGoesWithVcpuZero() throws Exception {
        Path root = host(HostSpec.builder().cpus(2).threadsPerCore(1).irqs(0).processes(2).build());
        Path out = tmp.resolve("vm.yaml");
        CliRun r = run("suggest", "--domain", domain("qemu", 1).toString(), "--host-root", root.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        String yaml = Files.readString(out);
        assertEquals(List.of("host_cpus: 0", "vcpus:", "  pin: [1]", "governor: performance", "cstates:",
                "  method: pm_qos", "  max_latency_us: 0"), keys(yaml));
        assertTrue(yaml.contains("# emulator thread on vCPU 0's CPU 1: without KVM (<domain type='qemu'>) it runs the"
                + " guest's timers"), yaml);
        assertTrue(r.out().contains("<emulatorpin cpuset='1'/>"), r.out());
        var profile = new org.vfioorchestrator.profile.ProfileLoader(org.vfioorchestrator.profile.HostFacts.read(
                org.vfioorchestrator.host.HostFs.open(root))).load(out);
        assertEquals(org.vfioorchestrator.cpu.CpuSet.of(1), profile.emulatorCpus(true), "unedited, right under TCG");
        assertEquals(org.vfioorchestrator.cpu.CpuSet.of(0), profile.iothreadCpus());

        CliRun kvm = run("suggest", "--domain", domain("kvm", 1).toString(), "--host-root", root.toString());
        assertEquals(0, kvm.code(), kvm.err());
        assertTrue(kvm.out().contains("<emulatorpin cpuset='0'/>"), kvm.out());
        assertFalse(kvm.out().contains("emulator_cpus"), kvm.out());
    }
}
