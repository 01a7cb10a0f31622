package org.vfioorchestrator.measure;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.ProcStat;
import org.vfioorchestrator.measure.ProcFiles.CounterRow;
import org.vfioorchestrator.measure.ProcFiles.SchedStat;
import org.vfioorchestrator.measure.VmMeasurement.ForeignTask;
import org.vfioorchestrator.measure.VmMeasurement.InterruptSource;
import org.vfioorchestrator.measure.VmMeasurement.Vcpu;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;

/**
 * Samples a running VM from the host once per second, through {@link HostFs} only:
 * each vCPU thread's run-queue wait and involuntary context switches, the other
 * tasks that ran on the VM's CPUs, and the interrupts and softirqs those CPUs took.
 *
 * <p>Every window's rate is its counter delta divided by the time between the two
 * reads as measured by the {@link Ticker}, so a late wake-up does not inflate a rate.
 *
 * <p>Cost: each sample reads {@code stat} and {@code schedstat} of every thread on the
 * host (two small reads per thread), which is what lets it see a kernel worker that
 * ran for 50 µs. It runs on whatever CPUs this process may use, not the VM's.
 */
public final class VmSampler {
    private static final long SECOND = 1_000_000_000L;

    private final HostFs host;
    private final Ticker ticker;
    private final Progress progress;

    public VmSampler(HostFs host, Ticker ticker, Progress progress) {
        this.host = host;
        this.ticker = ticker;
        this.progress = progress;
    }

    private record VcpuCounters(SchedStat sched, long involuntary) {
    }

    private record TaskCounters(int pid, String comm, int processor, long startTime, long runNs) {
    }

    private record Snapshot(long nanos, Map<Integer, VcpuCounters> vcpus, Map<Integer, TaskCounters> tasks,
            Map<String, CounterRow> counters) {
    }

    /** Per-task totals while sampling. */
    private static final class Foreign {
        final int pid;
        final int tid;
        final String comm;
        final TreeSet<Integer> cpus = new TreeSet<>();
        int windows;
        long runNs;

        Foreign(int pid, int tid, String comm) {
            this.pid = pid;
            this.tid = tid;
            this.comm = comm;
        }
    }

    /** Per (source, CPU) totals while sampling. */
    private static final class Source {
        final String key;
        final String label;
        final int cpu;
        long total;
        double max;

        Source(String key, String label, int cpu) {
            this.key = key;
            this.label = label;
            this.cpu = cpu;
        }
    }

    /**
     * Samples for {@code seconds} one-second windows. Stops early, with a note, if the VM's
     * vCPU threads go away; fails if that happens before the first window is complete.
     */
    public VmMeasurement sample(QemuProcess qemu, CpuSet cpus, String cpusFrom, int seconds) {
        List<QemuThread> vcpuThreads = qemu.threads(ThreadRole.VCPU);
        if (vcpuThreads.isEmpty()) {
            throw OrchestratorException.data("VM " + qemu.vm() + ": QEMU (pid " + qemu.pid()
                    + ") has no vCPU threads named 'CPU n/KVM' in /proc/" + qemu.pid() + "/task; is it still starting?");
        }
        Map<Integer, CpuSet> allowed = new LinkedHashMap<>();
        for (QemuThread t : vcpuThreads) {
            allowed.put(t.tid(), host.threadAffinity(t.tid()));
        }
        List<String> notes = new ArrayList<>();
        Map<Integer, List<Double>> wait = new HashMap<>();
        Map<Integer, List<Double>> involuntary = new HashMap<>();
        Map<Integer, long[]> totals = new HashMap<>(); // tid -> {runNs, waitNs, slices}
        for (QemuThread t : vcpuThreads) {
            wait.put(t.tid(), new ArrayList<>());
            involuntary.put(t.tid(), new ArrayList<>());
            totals.put(t.tid(), new long[3]);
        }
        Map<String, Foreign> foreign = new LinkedHashMap<>();
        Map<String, Source> sources = new LinkedHashMap<>();

        long start = ticker.nanoTime();
        Snapshot prev = read(qemu, vcpuThreads, cpus).orElseThrow(() -> stopped(qemu));
        long firstNanos = prev.nanos;
        int done = 0;
        progress.update(0, seconds);
        try {
            for (int w = 1; w <= seconds; w++) {
                try {
                    ticker.sleepNanos(start + w * SECOND - ticker.nanoTime());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    notes.add("interrupted after " + done + " s");
                    break;
                }
                Optional<Snapshot> next = read(qemu, vcpuThreads, cpus);
                if (next.isEmpty()) {
                    notes.add("the VM stopped after " + done + " s of " + seconds + " s; the numbers cover those");
                    break;
                }
                Snapshot cur = next.get();
                double secs = Math.max(1e-3, (cur.nanos - prev.nanos) / 1e9);
                for (QemuThread t : vcpuThreads) {
                    VcpuCounters a = prev.vcpus.get(t.tid());
                    VcpuCounters b = cur.vcpus.get(t.tid());
                    long dRun = b.sched.runNs() - a.sched.runNs();
                    long dWait = b.sched.waitNs() - a.sched.waitNs();
                    long dSlices = b.sched.slices() - a.sched.slices();
                    wait.get(t.tid()).add(dWait / 1e3 / secs);
                    involuntary.get(t.tid()).add((b.involuntary - a.involuntary) / secs);
                    long[] tot = totals.get(t.tid());
                    tot[0] += dRun;
                    tot[1] += dWait;
                    tot[2] += dSlices;
                }
                for (Map.Entry<Integer, TaskCounters> e : cur.tasks.entrySet()) {
                    TaskCounters c = e.getValue();
                    if (!cpus.contains(c.processor)) {
                        continue;
                    }
                    TaskCounters p = prev.tasks.get(e.getKey());
                    long advanced = p != null && p.startTime == c.startTime ? c.runNs - p.runNs : c.runNs;
                    if (advanced <= 0) {
                        continue;
                    }
                    Foreign f = foreign.computeIfAbsent(e.getKey() + "@" + c.startTime, k -> new Foreign(c.pid, e.getKey(), c.comm));
                    f.cpus.add(c.processor);
                    f.windows++;
                    f.runNs += advanced;
                }
                for (CounterRow row : cur.counters.values()) {
                    CounterRow old = prev.counters.get(row.key());
                    if (old == null) {
                        continue;
                    }
                    for (Map.Entry<Integer, Long> c : row.perCpu().entrySet()) {
                        Long before = old.perCpu().get(c.getKey());
                        if (!cpus.contains(c.getKey()) || before == null || c.getValue() < before) {
                            continue;
                        }
                        long delta = c.getValue() - before;
                        Source s = sources.computeIfAbsent(row.key() + "@" + c.getKey(), k -> new Source(row.key(), row.label(), c.getKey()));
                        s.total += delta;
                        s.max = Math.max(s.max, delta / secs);
                    }
                }
                prev = cur;
                done = w;
                progress.update(done, seconds);
            }
        } finally {
            progress.finish();
        }
        if (done == 0) {
            throw stopped(qemu);
        }
        double elapsed = (prev.nanos - firstNanos) / 1e9;

        List<Vcpu> vcpus = new ArrayList<>();
        for (QemuThread t : vcpuThreads) {
            List<Double> ws = wait.get(t.tid());
            int worst = 0;
            for (int i = 1; i < ws.size(); i++) {
                if (ws.get(i) > ws.get(worst)) {
                    worst = i;
                }
            }
            long[] tot = totals.get(t.tid());
            List<Double> inv = involuntary.get(t.tid());
            vcpus.add(new Vcpu(t.index(), t.tid(), t.name(), allowed.get(t.tid()),
                    tot[1] / 1e3 / elapsed, ws.get(worst), worst + 1,
                    tot[2] == 0 ? 0 : tot[1] / 1e3 / tot[2],
                    inv.stream().mapToDouble(Double::doubleValue).sum() / inv.size(),
                    inv.stream().mapToDouble(Double::doubleValue).max().orElse(0),
                    tot[0] / 1e7 / elapsed, ws));
        }
        List<ForeignTask> tasks = foreign.values().stream()
                .map(f -> new ForeignTask(f.pid, f.tid, f.comm, CpuSet.of(f.cpus), f.windows, f.runNs / 1e6))
                .sorted(Comparator.comparingDouble(ForeignTask::runMs).reversed().thenComparingInt(ForeignTask::tid))
                .toList();
        List<InterruptSource> irqs = sources.values().stream()
                .filter(s -> s.total > 0)
                .map(s -> new InterruptSource(s.key, s.label, s.cpu, s.total, s.total / elapsed, s.max))
                .sorted(Comparator.comparingDouble(InterruptSource::avgPerSec).reversed()
                        .thenComparing(InterruptSource::key).thenComparingInt(InterruptSource::cpu))
                .toList();
        return new VmMeasurement(qemu.vm(), qemu.pid(), cpus, cpusFrom, done, vcpus, tasks, irqs, notes);
    }

    private static OrchestratorException stopped(QemuProcess qemu) {
        return OrchestratorException.data("VM " + qemu.vm() + " stopped while being measured (QEMU pid "
                + qemu.pid() + " has gone); start it and measure again");
    }

    /** One reading of every counter; empty when the VM's vCPU threads are gone. */
    private Optional<Snapshot> read(QemuProcess qemu, List<QemuThread> vcpuThreads, CpuSet cpus) {
        long nanos = ticker.nanoTime();
        Map<Integer, VcpuCounters> vcpus = new HashMap<>();
        for (QemuThread t : vcpuThreads) {
            String dir = "/proc/" + qemu.pid() + "/task/" + t.tid();
            Optional<SchedStat> sched = host.read(dir + "/schedstat").flatMap(SchedStat::parse);
            Optional<String> status = host.read(dir + "/status");
            if (sched.isEmpty() || status.isEmpty()) {
                return Optional.empty();
            }
            long inv = KernelText.statusField(status.get(), "nonvoluntary_ctxt_switches").map(Long::parseLong).orElse(0L);
            vcpus.put(t.tid(), new VcpuCounters(sched.get(), inv));
        }
        Map<Integer, TaskCounters> tasks = new HashMap<>();
        for (String p : host.list("/proc")) {
            if (!isNumber(p)) {
                continue;
            }
            int pid = Integer.parseInt(p);
            for (String t : host.list("/proc/" + pid + "/task")) {
                if (!isNumber(t)) {
                    continue;
                }
                int tid = Integer.parseInt(t);
                if (vcpus.containsKey(tid)) {
                    continue;
                }
                String dir = "/proc/" + pid + "/task/" + tid;
                Optional<ProcStat> stat = readQuietly(dir + "/stat").flatMap(VmSampler::taskStat);
                Optional<SchedStat> sched = readQuietly(dir + "/schedstat").flatMap(SchedStat::parse);
                if (stat.isPresent() && sched.isPresent()) {
                    tasks.put(tid, new TaskCounters(pid, stat.get().comm(), stat.get().processor(),
                            stat.get().startTime(), sched.get().runNs()));
                }
            }
        }
        Map<String, CounterRow> counters = new HashMap<>();
        try {
            host.read("/proc/interrupts").ifPresent(s -> counters.putAll(ProcFiles.parseCounters(s, false)));
            host.read("/proc/softirqs").ifPresent(s -> counters.putAll(ProcFiles.parseCounters(s, true)));
        } catch (IllegalArgumentException e) {
            throw OrchestratorException.data("/proc/interrupts or /proc/softirqs: cannot read its layout: " + e.getMessage());
        }
        return Optional.of(new Snapshot(nanos, vcpus, tasks, counters));
    }

    /** A task's stat, or empty when it is malformed or stops before the processor field (the task is skipped). */
    private static Optional<ProcStat> taskStat(String text) {
        try {
            ProcStat stat = ProcStat.parse(text);
            return stat.processor() < 0 ? Optional.empty() : Optional.of(stat);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Threads come and go while we look; one that vanished or hides its files is skipped. */
    private Optional<String> readQuietly(String path) {
        try {
            return host.read(path);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty() || s.length() > 9) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
