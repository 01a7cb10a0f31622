package org.vfioorchestrator.measure;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.measure.ReportStore.StoredReport;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;

/**
 * Measures, keeps and compares. The {@code measure} command and the hook's post-start
 * measurement both come here.
 */
public final class MeasurementService {
    /** Warm-up of the built-in probe before its measured run. */
    static final long SPIN_WARMUP_NANOS = 300_000_000L;

    private final HostFs host;
    private final Ticker ticker;
    private final Progress progress;
    private final CommandRunner runner;
    private final ReportStore store;

    public MeasurementService(HostFs host) {
        this(host, Ticker.system(), Progress.NONE, CommandRunner.system());
    }

    public MeasurementService(HostFs host, Ticker ticker, Progress progress, CommandRunner runner) {
        this.host = host;
        this.ticker = ticker;
        this.progress = progress;
        this.runner = runner;
        this.store = new ReportStore(host);
    }

    public ReportStore store() {
        return store;
    }

    /** What {@link #measureAndCompare} did: the report, where it was kept, and how it compares. */
    public record Outcome(MeasurementReport report, StoredReport stored, Optional<Comparison> comparison) {
    }

    /**
     * Samples a running VM for {@code duration} on the CPUs its vCPU threads may use,
     * keeps the report and compares it with the previous one. For the hook's post-start
     * measurement: it never asks libvirt, and reads the host only through HostFs.
     */
    public Outcome measureAndCompare(String vm, Duration duration) {
        MeasurementReport report = measureVm(vm, duration, null, null);
        Optional<Comparison> comparison = compareWithPrevious(report);
        StoredReport stored = save(report);
        return new Outcome(report, stored, comparison);
    }

    /**
     * Samples a running VM; {@code cpus} null means the CPUs its vCPU threads are allowed on. With
     * {@code guest}, a latency tool runs inside the guest meanwhile (started first: it may wait for a
     * guest agent that is still coming up) and its figures join the report.
     */
    public MeasurementReport measureVm(String vm, Duration duration, CpuSet cpus, GuestMeasurement guest) {
        ReportStore.checkSubject(vm);
        QemuProcess qemu = QemuProcess.find(host, vm).orElseThrow(() -> OrchestratorException.data(
                "VM " + vm + " is not running: no live QEMU behind " + QemuProcess.pidFile(vm) + "; start it, then measure"));
        CpuSet watched = cpus;
        String from = "--cpus";
        if (watched == null) {
            watched = CpuSet.empty();
            for (QemuThread t : qemu.threads(ThreadRole.VCPU)) {
                watched = watched.union(host.threadAffinity(t.tid()));
            }
            from = "the vCPU threads' Cpus_allowed_list";
        }
        int seconds = Durations.seconds(duration);
        try (GuestMeasurement.Session inGuest = guest == null ? null : guest.start(seconds)) {
            Instant started = ticker.now();
            VmMeasurement m = new VmSampler(host, ticker, progress).sample(qemu, watched, from, seconds);
            GuestResult guestResult = inGuest == null ? null : inGuest.finish().orElse(null);
            java.util.List<String> notes = new java.util.ArrayList<>(m.notes());
            CpuSet online = online();
            if (cpus == null && !online.isEmpty() && online.isSubsetOf(watched)) {
                notes.add("the vCPU threads may run on every CPU (" + online + "): the VM has no CPUs of its own; "
                        + "pin them in the profile, or give --cpus");
            }
            if (inGuest != null) {
                inGuest.note().ifPresent(notes::add);
            }
            m = new VmMeasurement(m.vm(), m.pid(), m.cpus(), m.cpusFrom(), m.seconds(), m.vcpus(), m.foreignTasks(),
                    m.interrupts(), notes);
            return new MeasurementReport(vm, started, kernel(), m, null, guestResult);
        }
    }

    /** Runs a latency probe on CPUs no VM is using, its threads with {@code policy}. Only on the running host. */
    public MeasurementReport probe(CpuSet cpus, Duration duration, ProbeTool tool, ProbePolicy policy) {
        checkProbe(cpus);
        int seconds = Durations.seconds(duration);
        Instant started = ticker.now();
        RtTestsProbe rt = new RtTestsProbe(host, runner);
        boolean fifo = policy.kind() == ProbePolicy.Kind.FIFO;
        if (tool == ProbeTool.JAVA && fifo) {
            throw OrchestratorException.usage("the built-in busy loop (--tool java) runs SCHED_OTHER only, and the probe is to"
                    + " run " + policy.label() + " (" + policy.reason() + "): use --tool cyclictest or oslat (rt-tests),"
                    + " or --policy other");
        }
        ProbeResult result = switch (tool) {
            case CYCLICTEST -> rt.cyclictest(rt.find("cyclictest").orElseThrow(() -> notInstalled("cyclictest")), cpus,
                    seconds, policy);
            case OSLAT -> rt.oslat(rt.find("oslat").orElseThrow(() -> notInstalled("oslat")), cpus, seconds, policy);
            case JAVA -> new SpinProbe(host, SPIN_WARMUP_NANOS).run(cpus, seconds, policy);
            case AUTO -> {
                Optional<String> exe = rt.find("cyclictest");
                if (exe.isEmpty() && fifo) {
                    throw notInstalled("cyclictest");
                }
                yield exe.isPresent() ? rt.cyclictest(exe.get(), cpus, seconds, policy)
                        : new SpinProbe(host, SPIN_WARMUP_NANOS).run(cpus, seconds, policy);
            }
        };
        return new MeasurementReport(probeSubject(cpus), started, kernel(), null, result, null);
    }

    /** Fails unless {@link #probe} can run on these CPUs here; cheap, for checking before saying anything. */
    public void checkProbe(CpuSet cpus) {
        if (!host.isLive()) {
            throw OrchestratorException.usage("--probe runs programs on this machine; it cannot probe the tree at "
                    + host.root() + " (drop --host-root)");
        }
        if (cpus.isEmpty()) {
            throw OrchestratorException.usage("--probe needs at least one CPU, e.g. --probe 2-3");
        }
        CpuSet online = online();
        if (!online.isEmpty() && !cpus.isSubsetOf(online)) {
            throw OrchestratorException.data("--probe " + cpus + ": CPU " + cpus.difference(online)
                    + " is not online (online: " + online + ")");
        }
    }

    public static String probeSubject(CpuSet cpus) {
        return "probe-cpus-" + cpus;
    }

    /** Keeps the report as JSON, text and (when there is something to draw) PNG. */
    public StoredReport save(MeasurementReport report) {
        return store.save(report, TextReport.render(report), ReportJson.write(report), ReportPlot.render(report));
    }

    /**
     * The newest kept report this one can be compared with: same subject, and for probes and
     * figures from inside a guest the same tool and policy (cyclictest's wake-up latency and a busy loop's gaps are different
     * numbers, and so are a SCHED_FIFO thread's and a SCHED_OTHER one's).
     * Reports this version cannot read are passed over.
     */
    public Optional<StoredReport> previousComparable(MeasurementReport report) {
        for (StoredReport s : store.list(report.subject())) {
            if (s.stamp().equals(ReportStore.stamp(report.startedAt()))) {
                continue;
            }
            MeasurementReport old;
            try {
                old = store.load(s);
            } catch (OrchestratorException e) {
                continue;
            }
            boolean sameKind = (old.vm() != null) == (report.vm() != null)
                    && (old.guest() == null || report.guest() == null || sameTool(old.guest().latency(), report.guest().latency()));
            boolean sameTool = old.probe() == null || report.probe() == null || sameTool(old.probe(), report.probe());
            if (sameKind && sameTool) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    private static boolean sameTool(ProbeResult a, ProbeResult b) {
        return a.tool().equals(b.tool()) && a.policy().kind() == b.policy().kind();
    }

    /** Compares with the newest comparable kept report, if any. Call before {@link #save}. */
    public Optional<Comparison> compareWithPrevious(MeasurementReport report) {
        return previousComparable(report).map(s -> Comparison.of(store.load(s), s.stamp(), report));
    }

    private CpuSet online() {
        return host.read("/sys/devices/system/cpu/online").map(CpuSet::parseList).orElse(CpuSet.empty());
    }

    private String kernel() {
        return host.read("/proc/sys/kernel/osrelease").map(String::strip).orElse("unknown");
    }

    private static OrchestratorException notInstalled(String tool) {
        return OrchestratorException.data(tool + " is not installed (it comes with rt-tests: apt install rt-tests); "
                + "or use --tool java");
    }
}
