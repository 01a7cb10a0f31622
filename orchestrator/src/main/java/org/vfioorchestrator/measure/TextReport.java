package org.vfioorchestrator.measure;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.vfioorchestrator.measure.VmMeasurement.ForeignTask;
import org.vfioorchestrator.measure.VmMeasurement.InterruptSource;
import org.vfioorchestrator.measure.VmMeasurement.Vcpu;

/** The report as a person reads it in a terminal. */
public final class TextReport {
    /** Longest list shown in the text; the JSON report has them all. */
    static final int MAX_ROWS = 15;

    private TextReport() {
    }

    public static String render(MeasurementReport r) {
        StringBuilder sb = new StringBuilder();
        if (r.vm() != null) {
            vm(sb, r, r.vm());
        } else {
            probe(sb, r, r.probe());
        }
        return sb.toString();
    }

    private static void vm(StringBuilder sb, MeasurementReport r, VmMeasurement v) {
        line(sb, "VM %s (QEMU pid %d): %d s from %s, kernel %s", v.vm(), v.pid(), v.seconds(), r.startedAt(), r.hostKernel());
        line(sb, "VM CPUs watched: %s (from %s)", v.cpus(), v.cpusFrom());
        for (String note : v.notes()) {
            line(sb, "note: %s", note);
        }
        if (r.guest() != null) {
            GuestResult g = r.guest();
            sb.append('\n');
            String os = String.join(", ", java.util.stream.Stream.of(g.os(), g.kernel().isEmpty() ? "" : "kernel " + g.kernel())
                    .filter(x -> !x.isEmpty()).toList());
            line(sb, "Inside the guest%s: %s for %d s on its CPUs %s", os.isEmpty() ? "" : " (" + os + ")",
                    g.latency().tool(), g.latency().seconds(), g.latency().cpus());
            latency(sb, g.latency(), "vCPU");
            sb.append('\n');
            line(sb, "From the host:");
        }
        sb.append('\n');
        line(sb, "%-22s %-9s %10s %10s %7s %10s %9s %9s %6s", "vCPU thread", "allowed", "wait µs/s", "worst 1 s", "at",
                "µs/slice", "invol/s", "max/s", "ran %");
        for (Vcpu c : v.vcpus()) {
            line(sb, "%-22s %-9s %10.1f %10.1f %7s %10.2f %9.1f %9.0f %6.1f", c.name() + " (" + c.tid() + ")", c.allowed(),
                    c.avgWaitUsPerSec(), c.worstWaitUsPerSec(), "t=" + c.worstWindow() + "s", c.waitUsPerSlice(),
                    c.avgInvoluntaryPerSec(), c.maxInvoluntaryPerSec(), c.runPercent());
        }
        sb.append('\n');
        List<ForeignTask> tasks = v.foreignTasks();
        if (tasks.isEmpty()) {
            line(sb, "No other task ran on the VM's CPUs.");
        } else {
            line(sb, "Other tasks that ran on the VM's CPUs (%d):", tasks.size());
            for (ForeignTask t : tasks.subList(0, Math.min(MAX_ROWS, tasks.size()))) {
                line(sb, "  %-20s pid %-7d tid %-7d on CPU %-7s in %3d of %d s, %9.3f ms", t.comm(), t.pid(), t.tid(),
                        t.seenOn(), t.windows(), v.seconds(), t.runMs());
            }
            more(sb, tasks.size());
        }
        sb.append('\n');
        List<InterruptSource> irqs = v.interrupts();
        if (irqs.isEmpty()) {
            line(sb, "No interrupt or softirq hit the VM's CPUs.");
        } else {
            line(sb, "Interrupts and softirqs on the VM's CPUs, busiest first:");
            for (InterruptSource s : irqs.subList(0, Math.min(MAX_ROWS, irqs.size()))) {
                line(sb, "  %s hit CPU %d %s times/s (worst second %s, %d in all)", s.label(), s.cpu(), num(s.avgPerSec()),
                        num(s.maxPerSec()), s.total());
            }
            more(sb, irqs.size());
        }
    }

    private static void probe(StringBuilder sb, MeasurementReport r, ProbeResult p) {
        line(sb, "Probe: %s on CPUs %s for %d s, from %s, kernel %s", p.tool(), p.cpus(), p.seconds(), r.startedAt(), r.hostKernel());
        latency(sb, p, "CPU");
    }

    /** What the tool measures, its command, and per CPU ({@code cpuLabel}: the host's or a guest's) the figures and histogram. */
    private static void latency(StringBuilder sb, ProbeResult p, String cpuLabel) {
        line(sb, "Measures: %s", p.meaning());
        if (!p.policy().reason().isEmpty()) {
            line(sb, "Policy: %s (%s)", p.policy().kind(), p.policy().reason());
        }
        line(sb, "Command: %s", p.command());
        sb.append('\n');
        line(sb, "%-5s %12s %9s %9s %9s %9s %9s  (µs)", cpuLabel, "samples", "min", "avg", "p99", "p99.9", "max");
        for (CpuLatency c : p.perCpu()) {
            line(sb, "%-5d %12d %9s %9s %9s %9s %9s%s", c.cpu(), c.samples(), us(c.minUs()), us(c.avgUs()), us(c.p99Us()),
                    us(c.p999Us()), us(c.maxUs()), c.overflows() > 0 ? "  (" + c.overflows() + " beyond the histogram)" : "");
        }
        sb.append('\n');
        line(sb, "Histogram, samples per latency range (µs):");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-13s", "range"));
        for (CpuLatency c : p.perCpu()) {
            head.append(String.format(Locale.ROOT, " %12s", cpuLabel + " " + c.cpu()));
        }
        line(sb, "%s", head.toString());
        TreeMap<Integer, long[]> ranges = new TreeMap<>();
        for (int k = 0; k < p.perCpu().size(); k++) {
            CpuLatency c = p.perCpu().get(k);
            for (Map.Entry<Double, Long> e : c.histogram().entrySet()) {
                ranges.computeIfAbsent(range(e.getKey()), x -> new long[p.perCpu().size()])[k] += e.getValue();
            }
            if (c.overflows() > 0) {
                ranges.computeIfAbsent(Integer.MAX_VALUE, x -> new long[p.perCpu().size()])[k] += c.overflows();
            }
        }
        for (Map.Entry<Integer, long[]> e : ranges.entrySet()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-13s", rangeLabel(e.getKey())));
            for (long n : e.getValue()) {
                row.append(String.format(Locale.ROOT, " %12d", n));
            }
            line(sb, "%s", row.toString());
        }
    }

    /** Ranges by powers of two: -1 is [0, 1), k is [2^k, 2^(k+1)). */
    private static int range(double us) {
        return us < 1 ? -1 : 63 - Long.numberOfLeadingZeros((long) us);
    }

    private static String rangeLabel(int k) {
        if (k == Integer.MAX_VALUE) {
            return "beyond";
        }
        if (k < 0) {
            return "< 1";
        }
        return (1L << k) + " - <" + (1L << (k + 1));
    }

    private static String us(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String num(double v) {
        return v >= 10 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static void more(StringBuilder sb, int size) {
        if (size > MAX_ROWS) {
            line(sb, "  ... and %d more in the JSON report", size - MAX_ROWS);
        }
    }

    private static void line(StringBuilder sb, String format, Object... args) {
        sb.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
