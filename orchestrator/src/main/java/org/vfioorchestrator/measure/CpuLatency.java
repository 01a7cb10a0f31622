package org.vfioorchestrator.measure;

import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Latency seen on one CPU by a probe, in microseconds. {@code histogram} maps a
 * bucket's latency (µs) to how many samples fell in it; {@code overflows} are
 * samples beyond the last bucket (counted in {@code samples}, reflected in
 * {@code maxUs}). A percentile that falls among the overflows is reported as
 * {@code maxUs}: an upper bound, never an underestimate.
 */
public record CpuLatency(int cpu, long samples, double minUs, double avgUs, double p99Us, double p999Us,
        double maxUs, long overflows, NavigableMap<Double, Long> histogram) {

    public CpuLatency {
        histogram = Collections.unmodifiableNavigableMap(new TreeMap<>(histogram));
    }

    /**
     * Builds the summary from a histogram. {@code min}, {@code avg} and {@code max}
     * are the tool's exact figures when it prints them (null: taken from the buckets).
     */
    public static CpuLatency of(int cpu, Map<Double, Long> buckets, long overflows, Double min, Double avg, Double max) {
        TreeMap<Double, Long> hist = new TreeMap<>();
        buckets.forEach((k, v) -> {
            if (v > 0) {
                hist.merge(k, v, Long::sum);
            }
        });
        long inBuckets = hist.values().stream().mapToLong(Long::longValue).sum();
        long samples = inBuckets + overflows;
        double minUs = min != null ? min : hist.isEmpty() ? 0 : hist.firstKey();
        double maxUs = max != null ? max : hist.isEmpty() ? 0 : hist.lastKey();
        double avgUs;
        if (avg != null) {
            avgUs = avg;
        } else {
            double sum = 0;
            for (Map.Entry<Double, Long> e : hist.entrySet()) {
                sum += e.getKey() * e.getValue();
            }
            avgUs = inBuckets == 0 ? 0 : sum / inBuckets;
        }
        double p99 = clamp(percentile(hist, overflows, 0.99, maxUs), minUs, maxUs);
        double p999 = clamp(percentile(hist, overflows, 0.999, maxUs), minUs, maxUs);
        return new CpuLatency(cpu, samples, minUs, avgUs, p99, p999, maxUs, overflows, hist);
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** The bucket holding the sample at rank ceil(p * n); {@code max} when that sample overflowed. */
    static double percentile(NavigableMap<Double, Long> hist, long overflows, double p, double max) {
        long total = hist.values().stream().mapToLong(Long::longValue).sum() + overflows;
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(p * total);
        long seen = 0;
        for (Map.Entry<Double, Long> e : hist.entrySet()) {
            seen += e.getValue();
            if (seen >= rank) {
                return e.getKey();
            }
        }
        return max;
    }
}
