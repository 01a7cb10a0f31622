package org.vfioorchestrator.measure;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.vfioorchestrator.measure.MeasurementReport.Metric;

/**
 * A report set against the previous one of the same subject: one line per metric that got
 * worse, so a kernel, BIOS or setting change that cost latency shows up. A metric is worse
 * when it grew by more than {@link #WORSE_RATIO} and by more than its floor (so 2 µs becoming
 * 4 µs is not an alarm).
 */
public record Comparison(String previousStamp, String previousKernel, String kernel, List<Change> changes) {
    public static final double WORSE_RATIO = 1.5;

    public Comparison {
        changes = List.copyOf(changes);
    }

    public record Change(Metric before, Metric after, boolean worse) {
        public String line() {
            String pct = before.value() == 0 ? "from zero" : String.format(Locale.ROOT, "%+.0f%%",
                    (after.value() - before.value()) * 100 / before.value());
            return String.format(Locale.ROOT, "%s %s: %s -> %s %s (%s)", worse ? "worse:" : "ok:   ", after.label(),
                    fmt(before.value()), fmt(after.value()), after.unit(), pct);
        }
    }

    public static Comparison of(MeasurementReport before, String beforeStamp, MeasurementReport after) {
        Map<String, Metric> old = before.metricsByKey();
        List<Change> changes = new ArrayList<>();
        for (Metric now : after.metrics()) {
            Metric was = old.get(now.key());
            if (was == null) {
                continue;
            }
            boolean worse = now.value() > was.value() * WORSE_RATIO && now.value() - was.value() > now.floor();
            changes.add(new Change(was, now, worse));
        }
        return new Comparison(beforeStamp, before.hostKernel(), after.hostKernel(), changes);
    }

    public List<Change> worse() {
        return changes.stream().filter(Change::worse).toList();
    }

    /** One line per metric that got worse, or one line saying none did. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        String since = "since the report of " + previousStamp
                + (previousKernel.equals(kernel) ? "" : " (kernel then " + previousKernel + ", now " + kernel + ")");
        for (Change c : worse()) {
            out.add(c.line() + " " + since);
        }
        if (out.isEmpty()) {
            out.add("no metric got more than " + Math.round((WORSE_RATIO - 1) * 100) + "% worse " + since);
        }
        return out;
    }

    private static String fmt(double v) {
        return v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
