package org.vfioorchestrator.measure;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One measurement: of a running VM ({@link #vm}, with what a tool saw inside it when it was
 * measured there: {@link #guest}) or a probe of free CPUs ({@link #probe}).
 * {@code subject} names where it is stored: the VM's name, or {@code probe-cpus-LIST}.
 */
public record MeasurementReport(String subject, Instant startedAt, String hostKernel, VmMeasurement vm, ProbeResult probe,
        GuestResult guest) {

    public MeasurementReport {
        Objects.requireNonNull(subject);
        Objects.requireNonNull(startedAt);
        if ((vm == null) == (probe == null)) {
            throw new IllegalArgumentException("a report holds either a VM measurement or a probe");
        }
        if (guest != null && vm == null) {
            throw new IllegalArgumentException("figures from inside a guest go with its VM's");
        }
    }

    public Optional<GuestResult> guestResult() {
        return Optional.ofNullable(guest);
    }

    public Optional<VmMeasurement> vmMeasurement() {
        return Optional.ofNullable(vm);
    }

    public Optional<ProbeResult> probeResult() {
        return Optional.ofNullable(probe);
    }

    /** A number compared between reports; larger is worse. {@code floor} is a change too small to matter. */
    public record Metric(String key, String label, String unit, double value, double floor) {
    }

    /** The headline numbers that {@code --compare} watches, in a stable order. */
    public List<Metric> metrics() {
        List<Metric> out = new ArrayList<>();
        if (guest != null) {
            latency(out, "guest_latency", "in the guest", guest.latency());
        }
        if (vm != null) {
            List<Double> windows = new ArrayList<>();
            double involuntary = 0;
            for (VmMeasurement.Vcpu v : vm.vcpus()) {
                windows.addAll(v.waitUsPerSecond());
                involuntary += v.avgInvoluntaryPerSec();
            }
            windows.sort(null);
            double p99 = windows.isEmpty() ? 0 : windows.get((int) Math.ceil(0.99 * windows.size()) - 1);
            double worst = windows.isEmpty() ? 0 : windows.get(windows.size() - 1);
            double foreign = vm.foreignTasks().stream().mapToDouble(VmMeasurement.ForeignTask::runMs).sum() / vm.seconds();
            double irqs = vm.interrupts().stream().mapToDouble(VmMeasurement.InterruptSource::avgPerSec).sum();
            out.add(new Metric("runqueue_wait_p99_us_per_s", "p99 run-queue wait", "µs/s", p99, 50));
            out.add(new Metric("runqueue_wait_worst_us_per_s", "worst 1 s run-queue wait", "µs/s", worst, 100));
            out.add(new Metric("involuntary_switches_per_s", "involuntary context switches (all vCPUs)", "/s", involuntary, 5));
            out.add(new Metric("foreign_runtime_ms_per_s", "other tasks' run time on the VM's CPUs", "ms/s", foreign, 1));
            out.add(new Metric("interrupts_per_s", "interrupts and softirqs on the VM's CPUs", "/s", irqs, 100));
        } else {
            latency(out, "latency", "", probe);
        }
        return out;
    }

    /** p99, p99.9 and max of the worst CPU; {@code where} tells a guest's from a probe's. */
    private static void latency(List<Metric> out, String key, String where, ProbeResult p) {
        String in = where.isEmpty() ? "" : " " + where;
        double p99 = p.perCpu().stream().mapToDouble(CpuLatency::p99Us).max().orElse(0);
        double p999 = p.perCpu().stream().mapToDouble(CpuLatency::p999Us).max().orElse(0);
        double max = p.perCpu().stream().mapToDouble(CpuLatency::maxUs).max().orElse(0);
        out.add(new Metric(key + "_p99_us", "p99 latency" + in + " (worst CPU)", "µs", p99, 2));
        out.add(new Metric(key + "_p999_us", "p99.9 latency" + in + " (worst CPU)", "µs", p999, 5));
        out.add(new Metric(key + "_max_us", "max latency" + in + " (worst CPU)", "µs", max, 20));
    }

    public Map<String, Metric> metricsByKey() {
        Map<String, Metric> m = new LinkedHashMap<>();
        metrics().forEach(x -> m.put(x.key(), x));
        return m;
    }
}
