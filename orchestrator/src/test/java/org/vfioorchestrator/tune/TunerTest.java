package org.vfioorchestrator.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.Applier;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.apply.Reverter;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.CpuLatency;
import org.vfioorchestrator.measure.GuestResult;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.measure.ProbePolicy;
import org.vfioorchestrator.measure.ProbeResult;
import org.vfioorchestrator.measure.VmMeasurement;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.FaultyHostFs;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;
import org.vfioorchestrator.tunable.cstate.CStates;

/**
 * tune on a generated host with VM "small" running (8 CPUs, siblings n and n+4): the candidates, each
 * applied through the journal while it is measured, the VM put back byte for byte afterwards, also when
 * the run is interrupted; and after a crash at any point the journal still restores the host.
 */
public class TunerTest {
    public static final String PROFILE = """
            host_cpus: 0,4
            vcpus:
              pin: [1, 5, 2, 6]
            iothread_cpus: 0,4
            governor: performance
            cstates:
              method: pm_qos
              max_latency_us: 0
            """;
    public static final String KVM_DOMAIN = "<domain type='kvm'><name>small</name><vcpu>4</vcpu><iothreads>1</iothreads></domain>";

    @TempDir
    Path dir;

    final List<String> log = new ArrayList<>();

    /** apply.TreeHosts's small host: on v2 the root's cpuset controller is off, as systemd leaves it. */
    public static HostSpec small() {
        return HostSpec.builder().cpus(8).threadsPerCore(2).cpusPerL3(8).numaNodes(1).packages(1).irqs(16).nvmeQueues(4)
                .processes(10).cgroup(HostSpec.Cgroup.V2).cpusetController(false)
                .cpufreq("acpi-cpufreq", HostSpec.ACPI_CPUFREQ_GOVERNORS, "schedutil").cpuidle(true)
                .irqbalance(false, null).vm("small", 4, 1).seed(7).build();
    }

    Path tree(String name) throws Exception {
        Path root = dir.resolve(name);
        HostTreeGenerator.writeCached(small(), root);
        return root;
    }

    Profile profile(PlanService plans) throws Exception {
        Path file = dir.resolve("small.yaml");
        Files.writeString(file, PROFILE);
        return plans.load(file);
    }

    static List<Candidate> candidates(PlanService plans, Profile base) {
        return Candidates.of(base, DomainXml.parse(KVM_DOMAIN, "test"), plans.facts().topology());
    }

    /** A report whose guest p99 is {@code p99} µs. */
    static MeasurementReport report(String vm, double p99) {
        CpuLatency c = new CpuLatency(0, 1000, 5, 10, p99, p99 * 2, p99 * 3, 0, new TreeMap<>());
        VmMeasurement m = new VmMeasurement(vm, 1, CpuSet.of(1), "test", 1, List.of(), List.of(), List.of(), List.of());
        return new MeasurementReport(vm, Instant.EPOCH, "6.1", m, null, new GuestResult("Debian", "6.1",
                new ProbeResult("cyclictest", CpuSet.of(0), 1, "cyclictest", ProbePolicy.other("test"), List.of(c))));
    }

    @Test
    void aKvmVmGetsOneChangeFromItsProfileAtATimeAndNoPlacementTwice() throws Exception {
        PlanService plans = new PlanService(HostFs.open(tree("host")));
        assertEquals(List.of(
                "the profile as it is",
                "emulator on vCPU 0's CPU 1",
                "emulator on vCPU 0's sibling 5",
                "emulator on CPU 4 of its own, the host on 0",
                "iothreads on vCPU 0's CPU 1",
                "C-states left to the kernel"), candidates(plans, profile(plans)).stream().map(Candidate::name).toList());
    }

    @Test
    void underTcgTheEmulatorAlreadySitsWithVcpu0SoTheHostsCpusAreTried() throws Exception {
        PlanService plans = new PlanService(HostFs.open(tree("host")));
        Domain tcg = DomainXml.parse("<domain type='qemu'><name>small</name><vcpu>4</vcpu></domain>", "test");
        List<Candidate> c = Candidates.of(profile(plans), tcg, plans.facts().topology());
        assertEquals(List.of("the profile as it is", "emulator on the host's CPUs 0,4", "emulator on vCPU 0's sibling 5",
                "emulator on CPU 4 of its own, the host on 0", "C-states left to the kernel"),
                c.stream().map(Candidate::name).toList());
        assertEquals(Map.of("emulator_cpus", "0,4"), c.get(1).overrides());
    }

    @Test
    void eachCandidateRunsThroughTheJournalAndTheBestProfileIsWrittenWithItsEvidence() throws Exception {
        Path root = tree("host");
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile base = profile(plans);
        new Applier(plans, log::add).apply(base, true); // as the hook did at the VM's start
        TreeSnapshot applied = TreeSnapshot.of(root);
        List<String> journaled = new ArrayList<>();
        List<CpuSet> emulatorAt = new ArrayList<>();
        double[] p99s = {400, 120, 900, 300, 250, 410};
        Tuner tuner = new Tuner(plans, (vm, d) -> {
            journaled.add(new JournalStore(host).load().orElseThrow().vms().get(vm).profileText());
            QemuProcess q = QemuProcess.find(host, vm).orElseThrow();
            emulatorAt.add(host.threadAffinity(q.threads(ThreadRole.EMULATOR).get(0).tid()));
            return report(vm, p99s[emulatorAt.size() - 1]);
        }, log::add);
        List<Candidate> candidates = candidates(plans, base);

        TuneResult r = tuner.run(base, candidates, Duration.ofSeconds(1), (i, n, c) -> { });

        assertEquals(PROFILE, journaled.get(0), "the profile as it is, as the hook applied it");
        assertTrue(journaled.get(1).contains("emulator_cpus: '1'"), journaled.get(1));
        assertEquals(List.of(CpuSet.parseList("0,4"), CpuSet.of(1), CpuSet.of(5), CpuSet.of(4), CpuSet.parseList("0,4"),
                CpuSet.parseList("0,4")), emulatorAt, "the emulator thread where each candidate put it, while measured");
        assertEquals("emulator on vCPU 0's CPU 1", r.best().orElseThrow().candidate().name());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)), "the VM is back as the hook left it");
        assertEquals(PROFILE, new JournalStore(host).load().orElseThrow().vms().get("small").profileText());

        String text = r.profileText("cyclictest inside the guest, 1 s per candidate", "2026-01-02T03:04:05Z").orElseThrow();
        assertTrue(text.startsWith("# vfio-orchestrator profile for small, chosen by 'tune' on 2026-01-02T03:04:05Z\n"
                + "# from " + dir.resolve("small.yaml") + ": emulator on vCPU 0's CPU 1 had the lowest p99\n"
                + "# measured with cyclictest inside the guest, 1 s per candidate:\n"), text);
        assertTrue(text.contains("\n#* emulator on vCPU 0's CPU 1                                 120       240       360  CPUs 0,4\n"),
                text);
        assertTrue(text.contains("\n#  emulator on CPU 4 of its own, the host on 0                300       600       900  CPUs 0\n"),
                text);
        assertTrue(text.contains("\n\nvm: small\nhost_cpus: 0,4\n"), text);
        Profile written = plans.load(write("best.yaml", text));
        assertEquals(CpuSet.of(1), written.emulatorCpus());
        assertEquals(base.vcpuPins(), written.vcpuPins());
        assertEquals(base.settings(CStates.UNIT), written.settings(CStates.UNIT));
    }

    @Test
    void aRunInterruptedByCtrlCPutsTheVmBackAsTheHookLeftIt() throws Exception {
        Path root = tree("host");
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile base = profile(plans);
        new Applier(plans, log::add).apply(base, true);
        TreeSnapshot applied = TreeSnapshot.of(root);
        int[] measured = {0};
        Tuner tuner = new Tuner(plans, (vm, d) -> {
            if (++measured[0] == 3) {
                Thread.currentThread().interrupt(); // what TuneCommand's shutdown hook does on Ctrl-C
            }
            return report(vm, 100);
        }, log::add);
        try {
            OrchestratorException e = assertThrows(OrchestratorException.class,
                    () -> tuner.run(base, candidates(plans, base), Duration.ofSeconds(1), (i, n, c) -> { }));
            assertEquals("tune: interrupted; the VM is put back as it was", e.getMessage());
        } finally {
            Thread.interrupted();
        }
        assertEquals(3, measured[0]);
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aVmThatWasNotIsolatedIsRevertedAfterwardsAndTheHostIsAsBefore() throws Exception {
        Path root = tree("host");
        TreeSnapshot before = TreeSnapshot.of(root);
        PlanService plans = new PlanService(HostFs.open(root));
        Profile base = profile(plans);
        new Tuner(plans, (vm, d) -> report(vm, 100), log::add).run(base, candidates(plans, base).subList(0, 2),
                Duration.ofSeconds(1), (i, n, c) -> { });
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    /**
     * The process dies (kill -9, power loss) at the k-th kernel change of a tune run, for k from the first to
     * the last: nothing puts the VM back, but reverting it, as its stop does, restores the host byte for byte.
     */
    @Test
    void aCrashAtAnyChangeLeavesNothingTheJournalCannotRestore() throws Exception {
        int total = tuneWithCrashAt(Integer.MAX_VALUE, "count");
        assertTrue(total > 20, "a tune run makes many changes: " + total);
        for (int k : new int[] {1, 2, total / 3, total / 2, total - 1, total}) {
            tuneWithCrashAt(k, "crash-" + k);
        }
    }

    /** Applies the profile, runs tune with a crash at the k-th change, reverts; returns how many changes tune made. */
    int tuneWithCrashAt(int k, String name) throws Exception {
        Path root = tree(name);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        Profile base = profile(new PlanService(host));
        new Applier(new PlanService(host), log::add).apply(base, true);
        FaultyHostFs dying = new FaultyHostFs(host, k, FaultyHostFs.Mode.CRASH, Errno.EIO);
        PlanService plans = new PlanService(dying);
        Tuner tuner = new Tuner(plans, (vm, d) -> report(vm, 100), log::add);
        if (k == Integer.MAX_VALUE) {
            tuner.run(base, candidates(plans, base), Duration.ofSeconds(1), (i, n, c) -> { });
        } else {
            assertThrows(FaultyHostFs.Crash.class,
                    () -> tuner.run(base, candidates(plans, base), Duration.ofSeconds(1), (i, n, c) -> { }));
        }
        new Reverter(new PlanService(host), log::add).revert("small", false);
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)), "crash at change " + k);
        return dying.count();
    }

    Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }
}
