package org.vfioorchestrator.measure;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Parsers for rt-tests' outputs. Malformed input is an {@link IllegalArgumentException}
 * that says what was wrong, never an empty result.
 *
 * <ul>
 * <li>cyclictest {@code -h N -q} histogram, rt-tests 2.4 layout: {@code # Histogram}, one row per
 *     microsecond bucket ({@code 000005 003383	000535}: bucket, then one count per thread, empty
 *     buckets included), then {@code # Total:}, {@code # Min Latencies:}, {@code # Avg Latencies:},
 *     {@code # Max Latencies:}, {@code # Histogram Overflows:} lines;</li>
 * <li>the newer layout, which leaves out empty buckets and the {@code # Total:} line;</li>
 * <li>cyclictest {@code --json=FILE} ({@code thread -> N -> histogram/cycles/min/avg/max/cpu});</li>
 * <li>oslat's table ({@code Core:}, {@code 001 (us):} rows, the last one "including overflows",
 *     {@code Minimum:}, {@code Average:}, {@code Maximum:}), with or without {@code -z}.</li>
 * </ul>
 */
public final class RtTestsOutput {
    private RtTestsOutput() {
    }

    /**
     * Parses cyclictest's text histogram. {@code threadCpus.get(i)} is the CPU thread i ran on
     * (cyclictest -a pins round-robin); when it has fewer entries, the thread number is used.
     */
    public static List<CpuLatency> parseCyclictestHistogram(String text, List<Integer> threadCpus) {
        boolean inHistogram = false;
        boolean sawHeader = false;
        int threads = -1;
        List<TreeMap<Double, Long>> buckets = new ArrayList<>();
        long[] min = null;
        double[] avg = null;
        long[] max = null;
        long[] overflows = null;
        int lineNo = 0;
        for (String raw : text.split("\n")) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String body = line.substring(1).strip();
                if (body.equals("Histogram")) {
                    inHistogram = true;
                    sawHeader = true;
                } else if (body.startsWith("Min Latencies:")) {
                    min = longs(body, lineNo);
                } else if (body.startsWith("Avg Latencies:")) {
                    long[] a = longs(body, lineNo);
                    avg = new double[a.length];
                    for (int i = 0; i < a.length; i++) {
                        avg[i] = a[i];
                    }
                } else if (body.startsWith("Max Latencies:")) {
                    max = longs(body, lineNo);
                } else if (body.startsWith("Histogram Overflows:")) {
                    overflows = longs(body, lineNo);
                }
                // "# Total:", "# Thread N:", "# /dev/cpu_dma_latency ..." and comments carry nothing we need
                continue;
            }
            if (!inHistogram) {
                continue; // progress lines before the histogram (without -q)
            }
            String[] f = line.split("\\s+");
            if (threads < 0) {
                threads = f.length - 1;
                if (threads < 1) {
                    throw new IllegalArgumentException("cyclictest histogram line " + lineNo + ": no thread columns in '" + line + "'");
                }
                for (int t = 0; t < threads; t++) {
                    buckets.add(new TreeMap<>());
                }
            }
            if (f.length != threads + 1) {
                throw new IllegalArgumentException("cyclictest histogram line " + lineNo + ": expected " + (threads + 1)
                        + " columns, found " + f.length + " in '" + line + "'");
            }
            double bucket = parseLong(f[0], lineNo);
            for (int t = 0; t < threads; t++) {
                buckets.get(t).put(bucket, parseLong(f[t + 1], lineNo));
            }
        }
        if (!sawHeader) {
            throw new IllegalArgumentException("no '# Histogram' line: not cyclictest -h output");
        }
        if (threads < 0) {
            if (max == null) {
                throw new IllegalArgumentException("cyclictest histogram has no rows and no '# Max Latencies:' line");
            }
            threads = max.length; // every sample overflowed, or all buckets were empty and left out
            for (int t = 0; t < threads; t++) {
                buckets.add(new TreeMap<>());
            }
        }
        List<CpuLatency> out = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int cpu = t < threadCpus.size() ? threadCpus.get(t) : t;
            long over = overflows != null && t < overflows.length ? overflows[t] : 0;
            out.add(CpuLatency.of(cpu, buckets.get(t), over,
                    min != null && t < min.length ? (double) min[t] : null,
                    avg != null && t < avg.length ? avg[t] : null,
                    max != null && t < max.length ? (double) max[t] : null));
        }
        return out;
    }

    /** Parses {@code cyclictest --json=FILE}; each thread names its CPU. */
    public static List<CpuLatency> parseCyclictestJson(String json) {
        Map<String, Object> root;
        try {
            root = JSON.std.mapFrom(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("cyclictest JSON is not valid JSON: " + firstLine(e.getMessage()), e);
        }
        if (!(root.get("thread") instanceof Map<?, ?> threads) || threads.isEmpty()) {
            throw new IllegalArgumentException("cyclictest JSON has no \"thread\" object");
        }
        TreeMap<Integer, CpuLatency> byThread = new TreeMap<>();
        for (Map.Entry<?, ?> e : threads.entrySet()) {
            int thread = Integer.parseInt(e.getKey().toString());
            if (!(e.getValue() instanceof Map<?, ?> t)) {
                throw new IllegalArgumentException("cyclictest JSON thread " + thread + " is not an object");
            }
            Map<Double, Long> hist = new LinkedHashMap<>();
            long inBuckets = 0;
            if (t.get("histogram") instanceof Map<?, ?> h) {
                for (Map.Entry<?, ?> b : h.entrySet()) {
                    long count = number(b.getValue(), "thread " + thread + " histogram").longValue();
                    hist.put(Double.parseDouble(b.getKey().toString()), count);
                    inBuckets += count;
                }
            }
            long cycles = number(t.get("cycles"), "thread " + thread + " cycles").longValue();
            int cpu = t.get("cpu") == null ? thread : number(t.get("cpu"), "thread " + thread + " cpu").intValue();
            long overflows = hist.isEmpty() ? 0 : Math.max(0, cycles - inBuckets);
            byThread.put(thread, CpuLatency.of(cpu, hist, overflows,
                    number(t.get("min"), "thread " + thread + " min").doubleValue(),
                    number(t.get("avg"), "thread " + thread + " avg").doubleValue(),
                    number(t.get("max"), "thread " + thread + " max").doubleValue()));
        }
        return List.copyOf(byThread.values());
    }

    /** Parses oslat's final table; bucket {@code 005 (us)} holds gaps up to 5 µs. */
    public static List<CpuLatency> parseOslat(String text) {
        int[] cores = null;
        List<TreeMap<Double, Long>> buckets = new ArrayList<>();
        long[] overflowRow = null;
        double[] min = null;
        double[] avg = null;
        double[] max = null;
        int lineNo = 0;
        for (String raw : text.split("\n")) {
            lineNo++;
            String line = raw.strip();
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String[] values = line.substring(colon + 1).replaceAll("\\(.*\\)", "").strip().split("\\s+");
            if (key.equals("Core")) {
                cores = new int[values.length];
                for (int i = 0; i < values.length; i++) {
                    cores[i] = (int) parseLong(values[i], lineNo);
                }
                for (int i = 0; i < values.length; i++) {
                    buckets.add(new TreeMap<>());
                }
            } else if (cores != null && key.matches("\\d+ \\(us\\)")) {
                double bucket = Double.parseDouble(key.substring(0, key.indexOf(' ')));
                long[] counts = longs(values, cores.length, lineNo, line);
                if (line.contains("including overflows")) {
                    overflowRow = counts; // the last bucket also holds everything beyond it
                } else {
                    for (int i = 0; i < cores.length; i++) {
                        buckets.get(i).put(bucket, counts[i]);
                    }
                }
            } else if (cores != null && key.equals("Minimum")) {
                min = doubles(values, cores.length, lineNo, line);
            } else if (cores != null && key.equals("Average")) {
                avg = doubles(values, cores.length, lineNo, line);
            } else if (cores != null && key.equals("Maximum")) {
                max = doubles(values, cores.length, lineNo, line);
            }
        }
        if (cores == null) {
            throw new IllegalArgumentException("no 'Core:' line: not oslat output (did the test finish?)");
        }
        if (min == null || avg == null || max == null) {
            throw new IllegalArgumentException("oslat output lacks the Minimum/Average/Maximum lines");
        }
        List<CpuLatency> out = new ArrayList<>();
        for (int i = 0; i < cores.length; i++) {
            out.add(CpuLatency.of(cores[i], buckets.get(i), overflowRow == null ? 0 : overflowRow[i], min[i], avg[i], max[i]));
        }
        return out;
    }

    private static long[] longs(String body, int lineNo) {
        String[] f = body.substring(body.indexOf(':') + 1).strip().split("\\s+");
        if (f.length == 1 && f[0].isEmpty()) {
            return new long[0];
        }
        long[] out = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = parseLong(f[i], lineNo);
        }
        return out;
    }

    private static long[] longs(String[] values, int n, int lineNo, String line) {
        if (values.length != n) {
            throw new IllegalArgumentException("oslat line " + lineNo + ": expected " + n + " values in '" + line + "'");
        }
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = parseLong(values[i], lineNo);
        }
        return out;
    }

    private static double[] doubles(String[] values, int n, int lineNo, String line) {
        if (values.length != n) {
            throw new IllegalArgumentException("oslat line " + lineNo + ": expected " + n + " values in '" + line + "'");
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            try {
                out[i] = Double.parseDouble(values[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("oslat line " + lineNo + ": '" + values[i] + "' is not a number");
            }
        }
        return out;
    }

    private static long parseLong(String s, int lineNo) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("line " + lineNo + ": '" + s + "' is not a number");
        }
    }

    private static Number number(Object o, String what) {
        if (o instanceof Number n) {
            return n;
        }
        throw new IllegalArgumentException("cyclictest JSON: " + what + " is " + (o == null ? "missing" : "not a number"));
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
