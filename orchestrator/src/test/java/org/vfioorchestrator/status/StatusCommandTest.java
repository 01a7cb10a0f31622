package org.vfioorchestrator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.apply.Applier;
import org.vfioorchestrator.apply.Reverter;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.measure.ReportJson;
import org.vfioorchestrator.measure.ReportStore;
import org.vfioorchestrator.measure.VmMeasurement;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;

/** {@code status} and {@code xml} through {@code Main.run} on generated host trees. */
class StatusCommandTest {
    @TempDir
    Path dir;

    Path root;
    HostFs host;

    /** 8 CPUs (siblings n, n+4), cgroup v1, VM "small" running with 4 vCPUs and 2 iothreads. */
    static final HostSpec SPEC = HostSpec.builder().cpus(8).threadsPerCore(2).irqs(16).nvmeQueues(4).processes(6)
            .cgroup(HostSpec.Cgroup.V1).cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil")
            .cpuidle(true).irqbalance(false, null).vm("small", 4, 2).seed(11).build();

    static void writeTree(Path root) throws IOException {
        HostTreeGenerator.writeCached(SPEC, root);
    }

    static final String PROFILE = """
            host_cpus: 0,4
            vcpus:
              pin: [1, 5, 2, 6]
            emulator_cpus: 0,4
            iothread_cpus: 0,4
            governor: performance
            """;

    @BeforeEach
    void setUp() throws Exception {
        root = dir.resolve("host");
        writeTree(root);
        Path profiles = Files.createDirectories(root.resolve("etc/vfio-orchestrator/profiles"));
        Files.writeString(profiles.resolve("small.yaml"), PROFILE);
        host = HostFs.open(root);
    }

    CliRun status(String... more) {
        List<String> args = new ArrayList<>(List.of("status", "--host-root", root.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    void apply() {
        PlanService plans = new PlanService(host);
        new Applier(plans, line -> { }).apply(plans.load(root.resolve("etc/vfio-orchestrator/profiles/small.yaml")), true);
    }

    QemuThread thread(String name) {
        return QemuProcess.find(host, "small").orElseThrow().threads().stream().filter(t -> t.name().equals(name))
                .findFirst().orElseThrow();
    }

    @Test
    void beforeTheHookRunsARunningProfiledVmShowsWhereItsThreadsAreAndWhatTheProfileWants() {
        CliRun r = status();
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("journal: none (" + root + "/run/vfio-orchestrator/journal.json): nothing is applied\n"
                + "hook: not installed by 'vfio-orchestrator install'\n\nsmall: not isolated, profile " + root
                + "/etc/vfio-orchestrator/profiles/small.yaml\n  host keeps CPUs 0,4; vCPUs on 1-2,5-6\n"), r.out());
        assertTrue(r.out().matches("(?s).*\n    CPU 1/KVM +\\d+ +0-7 +5 +DIFFERENT\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\n    IO iothread2 +\\d+ +0-7 +0,4 +DIFFERENT\n.*"), r.out());
        assertTrue(r.out().contains("note: QEMU runs and the VM has a profile, but it is not isolated: is the hook installed"), r.out());
    }

    @Test
    void afterApplyEveryThreadIsWhereTheProfileWantsItAndTheJournalIsCounted() throws Exception {
        apply();
        CliRun r = status("small");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().matches("(?s).*\nsmall: isolated since 20\\d\\d-[^ ]+ \\(\\d+ s ago\\), profile " + root
                + "/etc/vfio-orchestrator/profiles/small.yaml, \\d+ before-images\n.*"), r.out());
        assertFalse(r.out().contains("DIFFERENT"), r.out());
        assertFalse(r.out().contains("drift"), r.out());

        Map<String, Object> json = JSON.std.mapFrom(status("small", "--json").out());
        @SuppressWarnings("unchecked")
        Map<String, Object> journal = (Map<String, Object>) json.get("journal");
        assertEquals("current", journal.get("state"));
        int images = ((Number) journal.get("beforeImages")).intValue();
        assertTrue(images > 10, "IRQs, workqueues, cgroups, governors, threads: " + images);
        @SuppressWarnings("unchecked")
        Map<String, Object> vm = ((List<Map<String, Object>>) json.get("vms")).get(0);
        assertEquals("small", vm.get("name"));
        assertEquals(true, vm.get("applied"));
        assertEquals(images, ((Number) vm.get("beforeImages")).intValue(), "one VM: every before-image is its");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> threads = (List<Map<String, Object>>) ((Map<String, Object>) vm.get("qemu")).get("threads");
        Map<String, Object> vcpu3 = threads.stream().filter(t -> "CPU 3/KVM".equals(t.get("name"))).findFirst().orElseThrow();
        assertEquals("6", vcpu3.get("cpus"));
        assertEquals("vcpu", vcpu3.get("role"));
        assertEquals(false, json.get("needsAttention"));
    }

    @Test
    void onSystemdTheHostSlicesAllowedCpusShowAndAUnitChangedAfterUsIsDrift() throws Exception {
        root = dir.resolve("systemd-host");
        HostTreeGenerator.writeCached(SPEC.toBuilder().cgroup(HostSpec.Cgroup.SYSTEMD).build(), root);
        Files.writeString(Files.createDirectories(root.resolve("etc/vfio-orchestrator/profiles")).resolve("small.yaml"), PROFILE);
        host = HostFs.open(root);
        apply();

        CliRun r = status();
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("\n\nsystemd: AllowedCPUs=0,4 on init.scope, system.slice, user.slice (runtime, until the"
                + " last VM stops)\n"), r.out());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> units = (List<Map<String, Object>>) JSON.std.mapFrom(status("--json").out()).get("systemd");
        assertEquals(Map.of("unit", "user.slice", "property", "AllowedCPUs", "now", "0,4"), units.get(2));

        // an administrator gives user.slice every CPU back while the VM runs
        host.systemd().orElseThrow().setRuntimeProperty("user.slice", "AllowedCPUs", "");
        r = status();
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("systemd: AllowedCPUs=0,4 on init.scope, system.slice (runtime, until the last VM stops)\n"
                + "systemd: AllowedCPUs= on user.slice (runtime, until the last VM stops)\n"), r.out());
        assertTrue(r.out().contains("\n  systemd user.slice AllowedCPUs: now '', we wrote 0,4, before us ''\n"), r.out());
    }

    @Test
    void driftAndAThreadMovedOffItsPinAreShownAndExitThree() throws Exception {
        apply();
        TreeSnapshot applied = TreeSnapshot.of(root);
        host.write("/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave");
        QemuThread vcpu0 = thread("CPU 0/KVM");
        host.setThreadAffinity(vcpu0.tid(), CpuSet.parseList("0-7"));
        TreeSnapshot changed = TreeSnapshot.of(root);

        CliRun r = status();
        assertEquals(3, r.code(), r.out());
        assertTrue(r.out().matches("(?s).*\n    CPU 0/KVM +" + vcpu0.tid() + " +0-7 +1 +DIFFERENT\n.*"), r.out());
        assertTrue(r.out().contains("\ndrift: someone changed 2 value(s) after us"), r.out());
        assertTrue(r.out().contains("\n  /sys/devices/system/cpu/cpu2/cpufreq/scaling_governor: now powersave, we wrote"
                + " performance, before us schedutil\n"), r.out());
        assertTrue(r.out().contains("/task/" + vcpu0.tid() + " (CPU 0/KVM): now 0-7, we wrote 1, before us 0-7\n"), r.out());
        assertEquals(List.of(), changed.differences(TreeSnapshot.of(root)), "status only reads");
        assertFalse(applied.differences(changed).isEmpty());
    }

    @Test
    void aJournalFromAnotherBootIsReportedAsStaleAndNotTouched() throws Exception {
        apply();
        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), "00000000-1111-2222-3333-444444444444\n");
        TreeSnapshot before = TreeSnapshot.of(root);
        CliRun r = status();
        assertEquals(3, r.code());
        assertTrue(r.out().startsWith("journal: STALE " + root + "/run/vfio-orchestrator/journal.json: it is from an earlier"
                + " boot ("), r.out());
        assertTrue(r.out().contains("Move it aside: mv " + root + "/run/vfio-orchestrator/journal.json"), r.out());
        assertTrue(r.out().contains("small: not isolated"), "a stale journal isolates nothing: " + r.out());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
        assertTrue(Files.exists(root.resolve("run/vfio-orchestrator/journal.json")), "not archived: status only reads");
    }

    @Test
    void aCorruptJournalIsNamedWithoutAStackTrace() throws Exception {
        apply();
        Files.writeString(root.resolve("run/vfio-orchestrator/journal.json"), "# vfio-orchestrator journal v1 sha256=00\n{}");
        CliRun r = status();
        assertEquals(3, r.code());
        assertTrue(r.out().startsWith("journal: UNREADABLE: " + root + "/run/vfio-orchestrator/journal.json: refusing the"
                + " journal: its checksum does not match"), r.out());
        assertFalse((r.out() + r.err()).contains("\tat "));
    }

    @Test
    void theNewestReportsAreListedWithTheirHeadline() throws Exception {
        ReportStore store = new ReportStore(host);
        for (String at : List.of("2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z")) {
            VmMeasurement m = new VmMeasurement("small", 100, CpuSet.of(1, 2, 5, 6), "vCPU affinity", 2,
                    List.of(new VmMeasurement.Vcpu(0, 101, "CPU 0/KVM", CpuSet.of(1), 10, 30, 2, 1.5, 4, 6, 50,
                            List.of(10.0, 30.0))), List.of(), List.of(), List.of());
            MeasurementReport report = new MeasurementReport("small", Instant.parse(at), "6.1.0", m, null, null);
            store.save(report, "text\n", ReportJson.write(report), Optional.empty());
        }
        CliRun r = status("small");
        assertTrue(r.out().contains("\n  report 20260104T100000.000Z: p99 run-queue wait 30 µs/s, worst 1 s run-queue wait"
                + " 30 µs/s (" + root + "/var/lib/vfio-orchestrator/reports/small/20260104T100000.000Z.txt)\n"), r.out());
        assertTrue(r.out().contains("report 20260102T100000.000Z"));
        assertFalse(r.out().contains("report 20260101T100000.000Z"), "only the newest " + StatusService.REPORTS_SHOWN);
    }

    @Test
    void aProfileEditedWhileTheVmRunsIsPointedOut() throws Exception {
        apply();
        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/small.yaml"), PROFILE + "# tuned later\n");
        CliRun r = status("small");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("note: the profile file changed since it was applied; the VM keeps the applied one"), r.out());
        assertEquals(true, ((List<?>) JSON.std.mapFrom(status("small", "--json").out()).get("vms")).stream()
                .map(v -> ((Map<?, ?>) v).get("profileChanged")).findFirst().orElseThrow());
    }

    @Test
    void afterRevertNothingIsApplied() throws Exception {
        apply();
        new Reverter(new PlanService(host), line -> { }).revert("small", false);
        CliRun r = status();
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("journal: none"), r.out());
    }

    @Test
    void aStoppedVmWithoutAProfileIsSaidSo() {
        CliRun r = status("nobody");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("nobody: not isolated\n  QEMU: not running\n  note: not applied, not running, and no"
                + " profile at " + root + "/etc/vfio-orchestrator/profiles/nobody.yaml\n"), r.out());
        CliRun bad = status("../etc");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("vfio-orchestrator status: VM name '../etc' is not supported"), bad.err());
    }

    /** Status and the planner ask the profile the same question: where each QEMU thread belongs. */
    @Test
    void wantedIsWhereTheProfilePutsEachThread() {
        var loader = new org.vfioorchestrator.profile.ProfileLoader(org.vfioorchestrator.profile.HostFacts.read(host));
        var p = loader.parse(PROFILE.getBytes(StandardCharsets.UTF_8), "p", "small");
        assertEquals(CpuSet.of(5), p.cpusFor(ThreadRole.VCPU, 1, false));
        assertNull(p.cpusFor(ThreadRole.VCPU, 9, false));
        assertEquals(CpuSet.of(0, 4), p.cpusFor(ThreadRole.IOTHREAD, 1, false));
        assertEquals(CpuSet.of(0, 4), p.cpusFor(ThreadRole.EMULATOR, -1, false));
        assertEquals(CpuSet.of(0, 4), p.cpusFor(ThreadRole.EMULATOR, -1, true), "emulator_cpus given: also under TCG");
        var byAccelerator = loader.parse(PROFILE.replace("emulator_cpus: 0,4\n", "").getBytes(StandardCharsets.UTF_8),
                "p", "small");
        assertEquals(CpuSet.of(0, 4), byAccelerator.cpusFor(ThreadRole.EMULATOR, -1, false), "KVM: host_cpus");
        assertEquals(CpuSet.of(1), byAccelerator.cpusFor(ThreadRole.EMULATOR, -1, true), "TCG: vCPU 0's CPU");
        assertEquals(CpuSet.of(0, 4), byAccelerator.cpusFor(ThreadRole.IOTHREAD, 1, true), "iothreads stay on the host");
    }

    // ---- xml ------------------------------------------------------------------------------

    static final String CPUTUNE = """
            <cputune>
              <vcpupin vcpu='0' cpuset='1'/>
              <vcpupin vcpu='1' cpuset='5'/>
              <vcpupin vcpu='2' cpuset='2'/>
              <vcpupin vcpu='3' cpuset='6'/>
              <emulatorpin cpuset='0,4'/>
            """;

    @Test
    void xmlPrintsTheCputuneWithTheRunningVmsIothreadIds() {
        CliRun r = run("xml", "small", "--host-root", root.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("<!-- small: the thread pins of " + root + "/etc/vfio-orchestrator/profiles/small.yaml"),
                r.out());
        assertTrue(r.out().contains(CPUTUNE + "  <iothreadpin iothread='1' cpuset='0,4'/>\n  <iothreadpin iothread='2'"
                + " cpuset='0,4'/>\n</cputune>\n"), r.out());
    }

    @Test
    void xmlTakesIothreadIdsFromTheDomainAndChecksIt() throws Exception {
        Path other = dir.resolve("other.yaml");
        Files.writeString(other, PROFILE);
        Path domain = dir.resolve("small.xml");
        Files.writeString(domain, "<domain type='kvm'><name>small</name><vcpu>4</vcpu><iothreads>2</iothreads>"
                + "<iothreadids><iothread id='7'/><iothread id='9'/></iothreadids></domain>");
        CliRun r = run("xml", "other", "--profile", other.toString(), "--domain", domain.toString(), "--host-root", root.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("the domain is 'small' but " + other + " is for 'other'"), r.err());

        Path small = dir.resolve("small.yaml");
        Files.writeString(small, PROFILE);
        r = run("xml", "small", "--profile", small.toString(), "--domain", domain.toString(), "--host-root", root.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(CPUTUNE + "  <iothreadpin iothread='7' cpuset='0,4'/>\n  <iothreadpin iothread='9'"
                + " cpuset='0,4'/>\n</cputune>\n"), r.out());
    }

    @Test
    void xmlWithoutProfileOrRunningVmSaysWhatToDo() throws Exception {
        CliRun r = run("xml", "ghost", "--host-root", root.toString());
        assertEquals(1, r.code());
        assertEquals("vfio-orchestrator xml: VM ghost has no profile at " + root + "/etc/vfio-orchestrator/profiles/ghost.yaml;"
                + " write one (vfio-orchestrator suggest ghost) or pass --profile FILE\n", r.err());

        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/ghost.yaml"), PROFILE);
        r = run("xml", "ghost", "--host-root", root.toString());
        assertEquals(0, r.code());
        assertTrue(r.out().contains("  <!-- one per iothread id of the domain (<iothreads>N</iothreads>: ids 1..N), e.g.: -->\n"
                + "  <iothreadpin iothread='1' cpuset='0,4'/>\n"), r.out());
    }

    /** A profile that leaves emulator_cpus out: the emulatorpin depends on the accelerator, from the domain or said. */
    @Test
    void xmlPutsTheEmulatorByAccelerator() throws Exception {
        Path small = dir.resolve("small.yaml");
        Files.writeString(small, PROFILE.replace("emulator_cpus: 0,4\n", ""));
        Path domain = dir.resolve("small.xml");
        Files.writeString(domain, "<domain type='qemu'><name>small</name><vcpu>4</vcpu></domain>");
        CliRun tcg = run("xml", "small", "--profile", small.toString(), "--domain", domain.toString(), "--host-root",
                root.toString());
        assertEquals(0, tcg.code(), tcg.err());
        assertTrue(tcg.out().contains("  <emulatorpin cpuset='1'/>\n"), tcg.out());

        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/ghost.yaml"), PROFILE.replace("emulator_cpus: 0,4\n", ""));
        CliRun unknown = run("xml", "ghost", "--host-root", root.toString());
        assertEquals(0, unknown.code(), unknown.err());
        assertTrue(unknown.out().contains("  <emulatorpin cpuset='0,4'/>\n  <!-- that is under KVM; without KVM"
                + " (<domain type='qemu'>) <emulatorpin cpuset='1'/>, vCPU 0's CPU -->\n"), unknown.out());
    }
}
