package org.vfioorchestrator.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.tunable.partition.Partitions;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.Durations;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.tunable.cpuset.Cpusets;
import org.vfioorchestrator.tunable.cstate.CStates;
import org.vfioorchestrator.tunable.governor.Governor;
import org.vfioorchestrator.tunable.irq.Irqs;
import org.vfioorchestrator.tunable.workqueue.Workqueues;

/** Profiles checked against the bundled gaming rig (32 CPUs, siblings n and n+16, CCDs 0-7,16-23 and 8-15,24-31). */
class ProfileLoaderTest {
    private static ProfileLoader rig;

    @BeforeAll
    static void loadRig() {
        Path root = Path.of(System.getProperty("repo.root"), "examples/hosts/gaming-rig");
        rig = new ProfileLoader(HostFacts.read(HostFs.open(root)));
    }

    private static Profile parse(String yaml) {
        return rig.parse(yaml.getBytes(StandardCharsets.UTF_8), "p.yaml", "win11");
    }

    private static List<String> problems(String yaml) {
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> parse(yaml));
        assertEquals(ExitCode.HOST_OR_DATA, e.exitCode());
        return e.problems();
    }

    @Test
    void theBundledExampleProfileLoadsWithEveryKey() throws Exception {
        Path file = Path.of(System.getProperty("repo.root"), "examples/profiles/win11.yaml");
        Profile p = rig.load(file);
        assertEquals("win11", p.vm());
        assertEquals(CpuSet.parseList("0-7,16-23"), p.hostCpus());
        assertEquals(List.of(8, 24, 9, 25, 10, 26, 11, 27), p.vcpuPins());
        assertEquals(CpuSet.parseList("0,16"), p.emulatorCpus());
        assertEquals(CpuSet.parseList("1,17"), p.iothreadCpus());
        assertEquals(Irqs.Passthrough.HOST, p.settings(Irqs.UNIT).passthrough());
        assertEquals(List.of("writeback"), p.settings(Workqueues.UNIT).also());
        assertEquals("performance", p.settings(Governor.UNIT));
        assertEquals(CStates.Method.PM_QOS, p.settings(CStates.UNIT).method());
        assertEquals(Cpusets.Mode.AUTO, p.settings(Cpusets.UNIT).mode());
        assertEquals(Duration.ofSeconds(30), p.measure().duration());
        assertEquals(280, p.measure().maxLatencyUs().getAsInt());
        assertEquals(Files.readString(file), p.text(), "the exact text, kept in the journal");
    }

    @Test
    void theTemplateLoadsOnTheRig() throws Exception {
        Profile p = rig.load(Path.of(System.getProperty("repo.root"), "profiles/template.yaml"));
        assertEquals("template", p.vm());
        assertEquals(8, p.vcpuPins().size());
    }

    @Test
    void defaultsAreTheHostCpusForEmulatorAndIothreadsAndLeaveForPower() {
        Profile p = parse("host_cpus: 0,16\nvcpus:\n  pin: [1, 17]\n");
        assertEquals(CpuSet.parseList("0,16"), p.emulatorCpus());
        assertEquals(CpuSet.parseList("0,16"), p.iothreadCpus());
        assertEquals(Governor.LEAVE, p.settings(Governor.UNIT));
        assertEquals(CStates.Method.LEAVE, p.settings(CStates.UNIT).method());
        assertEquals(true, p.settings(Irqs.UNIT).moveToHost());
        assertEquals(List.of("libvirtd", "virtqemud"), p.settings(Cpusets.UNIT).keep());
    }

    @Test
    void autoPinsWholeCoresWithSiblingsTogetherInOneL3Group() {
        Profile p = parse("host_cpus: 0-7,16-23\nvcpus:\n  pin: auto\n  count: 6\n");
        assertEquals(List.of(8, 24, 9, 25, 10, 26), p.vcpuPins());
        Profile from = parse("host_cpus: 0,16\nvcpus:\n  pin: auto\n  count: 4\n  from: 4-7,20-23\n");
        assertEquals(List.of(4, 20, 5, 21), from.vcpuPins());
    }

    @Test
    void autoThatCannotBeFilledWithWholeCoresSaysWhatToChange() {
        assertEquals(List.of("p.yaml:3:8: vcpus.pin: auto: at most 4 vCPUs fit on whole cores outside host_cpus (4-5,20-21);"
                + " lower vcpus.count or give fewer host_cpus"),
                problems("host_cpus: 0,16\nvcpus:\n  pin: auto\n  count: 5\n  from: 4,5,20,21\n"));
        assertEquals(List.of("p.yaml:3:8: vcpus.count: missing; with pin: auto, say how many vCPUs (the <vcpu> of the domain)"),
                problems("host_cpus: 0,16\nvcpus:\n  pin: auto\n"));
    }

    @Test
    void unknownKeysAreNamedWithTheNearestAllowedKey() {
        assertEquals(List.of("p.yaml:1:1: host_cpu: unknown key; did you mean 'host_cpus'? Allowed here: cgroups, cstates,"
                + " emulator_cpus, governor, host_cpus, iothread_cpus, irqs, measure, partition, vcpus, vm, workqueues",
                "p.yaml:1:1: host_cpus: missing; name the CPUs the host keeps while the VM runs, e.g. host_cpus: 0,16"),
                problems("host_cpu: 0,16\nvcpus:\n  pin: [1]\n"));
        assertEquals(List.of("p.yaml:4:3: irqs.move: unknown key; did you mean 'move_to_host'? Allowed here: move_to_host,"
                + " passthrough"), problems("host_cpus: 0\nvcpus: {pin: [1]}\nirqs:\n  move: true\n"));
    }

    @Test
    void wrongTypesSayWhatWasExpected() {
        assertEquals(List.of(
                "p.yaml:2:8: vcpus: expected a mapping of keys (count, from, pin)",
                "p.yaml:2:8: vcpus.pin: missing; write a list of host CPUs (one per vCPU) or 'auto'",
                "p.yaml:4:22: irqs.move_to_host: 'maybe' is not true or false",
                "p.yaml:3:11: governor: expected a cpufreq governor name or 'leave', not a list",
                "p.yaml:5:43: cstates.max_latency_us: 'low' is not a whole number",
                "p.yaml:6:21: measure.duration: 'soon' is not a duration; write it like 500ms, 30s, 2m or 1h"),
                problems("host_cpus: 0\nvcpus: [1]\ngovernor: [performance]\nirqs: {move_to_host: maybe}\n"
                        + "cstates: {method: pm_qos, max_latency_us: low}\nmeasure: {duration: soon}\n"));
    }

    @Test
    void aDurationMeansWhatItMeansOnTheCommandLine() {
        assertEquals(Duration.ofSeconds(30), parse("host_cpus: 0\nvcpus: {pin: [1]}\nmeasure: {duration: 30}\n")
                .measure().duration(), "a number alone is seconds, as measure --duration 30");
        for (String text : List.of("30", "30s", "2m", "1h", "1500ms", "24h", "0", "500ms", "25h", "1441m", "soon", "30 s",
                "-5", "99999999h")) {
            String onTheCommandLine;
            try {
                onTheCommandLine = Durations.parse(text).toString();
            } catch (IllegalArgumentException e) {
                onTheCommandLine = "p.yaml:3:21: measure.duration: " + e.getMessage();
            }
            String yaml = "host_cpus: 0\nvcpus: {pin: [1]}\nmeasure: {duration: '" + text + "'}\n";
            String inAProfile;
            try {
                inAProfile = parse(yaml).measure().duration().toString();
            } catch (OrchestratorException e) {
                inAProfile = e.getMessage();
            }
            assertEquals(onTheCommandLine, inAProfile, text);
        }
    }

    @Test
    void aNumberTooLargeForItsKeyIsOutOfRangeNotMalformed() {
        assertEquals(List.of("p.yaml:3:43: cstates.max_latency_us: 2147483648 is out of range; write a number from 0 to 1000000",
                "p.yaml:4:27: measure.max_latency_us: -99999999999999999999 is out of range; write a number from 1 to 10000000"),
                problems("host_cpus: 0\nvcpus: {pin: [1]}\ncstates: {method: pm_qos, max_latency_us: 2147483648}\n"
                        + "measure: {max_latency_us: -99999999999999999999}\n"));
        assertEquals(List.of("p.yaml:2:27: vcpus.count: 2147483648 is out of range; write a number from 1 to 4096"),
                problems("host_cpus: 0\nvcpus: {pin: auto, count: 2147483648}\n"));
    }

    @Test
    void aCgroupRootThatIsNoCgroupIsRefusedWithTheFix() {
        String fix = "; write e.g. /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset (v1)";
        assertEquals(List.of("p.yaml:3:17: cgroups.root: '/sys/fs/cgroupx' is not under /sys/fs/cgroup" + fix),
                problems("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups: {root: /sys/fs/cgroupx}\n"));
        assertEquals(List.of("p.yaml:3:17: cgroups.root: '/sys/fs/cgroup/cpuset' is not a cgroup on this host (it has no"
                + " cgroup.procs)" + fix + ", a cgroup under them, or leave the key out"),
                problems("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups: {root: /sys/fs/cgroup/cpuset/}\n"));
        assertEquals("/sys/fs/cgroup/user.slice", parse("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups: {root: /sys/fs/cgroup/user.slice/}\n")
                .settings(Cpusets.UNIT).root());
        assertEquals("/sys/fs/cgroup/cpuset", parse("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups: {mode: none, root: /sys/fs/cgroup/cpuset}\n")
                .settings(Cpusets.UNIT).root(), "with mode: none the root is never used");
    }

    /**
     * A root in libvirt's cgroups for VMs, by the names libvirt gives them (its docs, "Control Groups Resource
     * Management"): every cgroup below it would be confined to the host CPUs, QEMU's threads with them, and the
     * vCPUs could not be pinned to theirs. Refused whatever the mode, as a root outside /sys/fs/cgroup is.
     */
    @Test
    void aCgroupRootInLibvirtsCgroupsForVmsIsRefusedWithTheFix() {
        String fix = ", libvirt's cgroup for VMs: confined to the host CPUs, their vCPUs could not be pinned to their own;"
                + " write e.g. /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset (v1), or leave the key out";
        for (String[] root : new String[][] {
                // systemd, v2 and v1: the slice, a VM's scope, a custom partition's slice
                {"/sys/fs/cgroup/machine.slice", "is machine.slice"},
                {"/sys/fs/cgroup/machine.slice/", "is machine.slice"},
                {"/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dwin11.scope/libvirt/vcpu0", "is under machine.slice"},
                {"/sys/fs/cgroup/cpuset/machine.slice", "is machine.slice"},
                {"/sys/fs/cgroup/machine-qemu\\x2d1\\x2dwin11.scope", "is machine-qemu\\x2d1\\x2dwin11.scope"},
                {"/sys/fs/cgroup/unified/machine-engineering.slice", "is machine-engineering.slice"},
                // no systemd, v1 and v2: the machine partition, a VM's cgroup, a custom partition
                {"/sys/fs/cgroup/cpuset/machine", "is machine"},
                {"/sys/fs/cgroup/cpuset/machine/qemu-1-win11.libvirt-qemu/emulator", "is under machine"},
                {"/sys/fs/cgroup/machine", "is machine"},
                {"/sys/fs/cgroup/production.partition", "is production.partition"},
                {"/sys/fs/cgroup/cpuset/qemu-1-win11.libvirt-qemu", "is qemu-1-win11.libvirt-qemu"}}) {
            String shown = root[0].length() > 1 && root[0].endsWith("/") ? root[0].substring(0, root[0].length() - 1) : root[0];
            for (String mode : new String[] {"auto", "v1", "v2", "systemd", "none"}) {
                int column = ("cgroups: {mode: " + mode + ", root: ").length() + 1;
                assertEquals(List.of("p.yaml:3:" + column + ": cgroups.root: '" + shown + "' " + root[1] + fix),
                        problems("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups: {mode: " + mode + ", root: " + root[0] + "}\n"),
                        root[0] + " with mode " + mode);
            }
        }
        // names that only look alike are the host's
        assertEquals("/sys/fs/cgroup/system.slice/machines.service", parse("host_cpus: 0\nvcpus: {pin: [1]}\ncgroups:"
                + " {mode: none, root: /sys/fs/cgroup/system.slice/machines.service}\n").settings(Cpusets.UNIT).root());
    }

    @Test
    void cpusThatDoNotExistOrAreOfflineAreRefused(@TempDir Path dir) throws Exception {
        assertEquals(List.of("p.yaml:1:12: host_cpus: CPU 32-33 does not exist on this host (it has CPUs 0-31); use CPUs from 0-31",
                "p.yaml:2:18: vcpus.pin[1]: CPU 40 does not exist on this host (it has CPUs 0-31); use CPUs from 0-31"),
                problems("host_cpus: 0,32-33\nvcpus: {pin: [1, 40]}\n"));
        HostSpec spec = HostSpec.builder().cpus(8).threadsPerCore(2).cpusPerL3(8).numaNodes(1).packages(1).irqs(16)
                .nvmeQueues(2).processes(4).offline(CpuSet.parseList("3,7")).noVm().seed(1).build();
        HostTreeGenerator.generate(spec, dir.resolve("h"));
        ProfileLoader withOffline = new ProfileLoader(HostFacts.read(HostFs.open(dir.resolve("h"))));
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> withOffline.parse(
                "host_cpus: 0,4\nvcpus: {pin: [1, 3]}\nemulator_cpus: 7\n".getBytes(StandardCharsets.UTF_8), "o.yaml", "x"));
        assertEquals(List.of("o.yaml:2:18: vcpus.pin[1]: CPU 3 is offline; use online CPUs (0-2,4-6)",
                "o.yaml:3:16: emulator_cpus: CPU 7 is offline; use online CPUs (0-2,4-6) or bring it online first"), e.problems());
    }

    @Test
    void badCpuListsAndOutOfRangeNumbersNameTheToken() {
        assertEquals(List.of("p.yaml:1:12: host_cpus: bad CPU list '3-1': range is reversed, write 1-3; write it like 0-3,8,10-11",
                "p.yaml:2:15: vcpus.pin[0]: -1 is out of range; write a number from 0 to 16383"),
                problems("host_cpus: 3-1\nvcpus: {pin: [-1]}\n"));
    }

    @Test
    void overlapsBetweenHostAndVmAndTwoVcpusOnOneCpuAreRefused() {
        assertEquals(List.of("p.yaml:2:18: vcpus.pin[1]: CPU 16 is also in host_cpus (0,16); a vCPU needs a CPU the host gives up;"
                + " remove it from one of them",
                "p.yaml:2:22: vcpus.pin[2]: CPU 1 is already pinned to vCPU 0; give each vCPU its own CPU"),
                problems("host_cpus: 0,16\nvcpus: {pin: [1, 16, 1]}\n"));
    }

    @Test
    void anEmptyHostSetIsRefused() {
        assertEquals(List.of("p.yaml:1:12: host_cpus: empty; the host needs at least one CPU, e.g. host_cpus: 0,16"),
                problems("host_cpus: ''\nvcpus: {pin: [1]}\n"));
    }

    @Test
    void aGovernorTheCpuDoesNotOfferIsRefusedWithTheChoices() {
        assertEquals(List.of("p.yaml:3:11: governor: CPU 1 does not offer 'turbo'; write one of conservative, ondemand,"
                + " userspace, powersave, performance, schedutil, or leave"),
                problems("host_cpus: 0\nvcpus: {pin: [1]}\ngovernor: turbo\n"));
    }

    @Test
    void duplicateKeysMalformedYamlAndAliasesAreRefused() {
        assertEquals(List.of("p.yaml:2:1: host_cpus: given twice; keep one"),
                problems("host_cpus: 0\nhost_cpus: 1\nvcpus: {pin: [2]}\n"));
        OrchestratorException bad = assertThrows(OrchestratorException.class, () -> parse("host_cpus: [0\nvcpus:\n"));
        assertEquals(ExitCode.HOST_OR_DATA, bad.exitCode());
        assertEquals(true, bad.getMessage().startsWith("p.yaml:"), bad.getMessage());
        assertEquals(List.of("p.yaml:1:12: emulator_cpus: YAML aliases (*name) are not allowed in a profile; write the value out"),
                problems("host_cpus: &h 0\nemulator_cpus: *h\nvcpus: {pin: [1]}\n"));
    }

    @Test
    void partitionIsNoneUnlessAskedAndOnlyItsThreeWordsAreAccepted() {
        assertEquals(Partitions.Type.NONE, parse("host_cpus: 0\nvcpus: {pin: [1]}\n").settings(Partitions.UNIT));
        assertEquals(Partitions.Type.ISOLATED,
                parse("host_cpus: 0\nvcpus: {pin: [1]}\npartition: isolated\n").settings(Partitions.UNIT));
        assertEquals(List.of("p.yaml:3:12: partition: 'exclusive' is not allowed; write one of none, root, isolated"),
                problems("host_cpus: 0\nvcpus: {pin: [1]}\npartition: exclusive\n"));
    }

    @Test
    void severalProblemsAreReportedTogether() {
        assertEquals(3, problems("host_cpus: 99\nvcpus: {pin: [1, 1]}\ngovernor: turbo\n").size());
    }

    @Test
    void blockAndFlowStyleReadAlikeAndProblemsNameTheirPlace() {
        String block = "host_cpus: 0,16   # the host\nvcpus:\n  pin:\n  - 1\n  - 99\nirqs:\n    passthrough: gpu\n";
        String flow = "host_cpus: 0,16\nvcpus: {pin: [1, 99]}\nirqs: {passthrough: gpu}\n";
        assertEquals(List.of(
                "p.yaml:5:5: vcpus.pin[1]: CPU 99 does not exist on this host (it has CPUs 0-31); use CPUs from 0-31",
                "p.yaml:7:18: irqs.passthrough: 'gpu' is not allowed; write one of host, vm, leave"), problems(block));
        assertEquals(List.of(
                "p.yaml:2:18: vcpus.pin[1]: CPU 99 does not exist on this host (it has CPUs 0-31); use CPUs from 0-31",
                "p.yaml:3:21: irqs.passthrough: 'gpu' is not allowed; write one of host, vm, leave"), problems(flow));
        Profile fromBlock = parse(block.replace("99", "17").replace("gpu", "vm"));
        Profile fromFlow = parse(flow.replace("99", "17").replace("gpu", "vm"));
        assertEquals(fromFlow.hostCpus(), fromBlock.hostCpus());
        assertEquals(List.of(1, 17), fromBlock.vcpuPins());
        assertEquals(fromFlow.vcpuPins(), fromBlock.vcpuPins());
        assertEquals(fromFlow.settings(Irqs.UNIT), fromBlock.settings(Irqs.UNIT));
    }

    @Test
    void aControlCharacterIsNamedWithItsLineAfterCharactersOutsideTheBmp() {
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> parse("# \ud83d\ude00 \ud83d\ude00\nhost_cpus: 0\nvcpus:\n\u0001  pin: [1]\n"));
        assertEquals("p.yaml: character U+0001 at line 4 is not allowed in YAML; remove it", e.getMessage());
    }
}
