package org.vfioorchestrator.measure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;

/**
 * The built-in probe for hosts without rt-tests, in the manner of oslat: one thread per
 * CPU, pinned there with {@link HostFs#setThreadAffinity} on its own thread id, spins
 * reading {@link System#nanoTime()} and records each gap between two reads into a
 * preallocated histogram. A gap longer than the loop's own cost is time the CPU was
 * taken away (an interrupt, another task, an SMI). The loop allocates nothing; it warms
 * up first so the JIT has compiled it before the measured run.
 */
public final class SpinProbe {
    /** 10 ns buckets below 10 µs, 1 µs buckets up to 10 ms, then one overflow bucket. */
    static final int FINE_BUCKETS = 1000;
    static final long FINE_NS = 10;
    static final int COARSE_BUCKETS = 9990;
    static final long COARSE_NS = 1000;
    static final long FINE_LIMIT_NS = FINE_BUCKETS * FINE_NS;
    static final int OVERFLOW = FINE_BUCKETS + COARSE_BUCKETS;

    private final HostFs host;
    private final long warmupNanos;

    public SpinProbe(HostFs host, long warmupNanos) {
        this.host = host;
        this.warmupNanos = warmupNanos;
    }

    /** One pinned busy loop and its histogram. */
    static final class Loop {
        final long[] buckets = new long[OVERFLOW + 1];
        long samples;
        long minNs;
        long maxNs;
        long sumNs;

        void reset() {
            java.util.Arrays.fill(buckets, 0);
            samples = 0;
            minNs = Long.MAX_VALUE;
            maxNs = 0;
            sumNs = 0;
        }

        /** Spins for {@code nanos}; everything it touches was allocated before. */
        void spin(long nanos) {
            final long[] b = buckets;
            long n = samples;
            long min = minNs;
            long max = maxNs;
            long sum = sumNs;
            long prev = System.nanoTime();
            final long end = prev + nanos;
            while (true) {
                long now = System.nanoTime();
                long gap = now - prev;
                prev = now;
                int i;
                if (gap < FINE_LIMIT_NS) {
                    i = (int) (gap / FINE_NS);
                } else {
                    long c = (gap - FINE_LIMIT_NS) / COARSE_NS;
                    i = c >= COARSE_BUCKETS ? OVERFLOW : FINE_BUCKETS + (int) c;
                }
                b[i]++;
                n++;
                sum += gap;
                if (gap < min) {
                    min = gap;
                }
                if (gap > max) {
                    max = gap;
                }
                if (now >= end) {
                    break;
                }
            }
            samples = n;
            minNs = min;
            maxNs = max;
            sumNs = sum;
        }

        /** Lower edge of bucket {@code i}, in µs. */
        static double bucketUs(int i) {
            return i < FINE_BUCKETS ? i * FINE_NS / 1000.0 : (FINE_LIMIT_NS + (i - FINE_BUCKETS) * COARSE_NS) / 1000.0;
        }

        CpuLatency result(int cpu) {
            Map<Double, Long> hist = new LinkedHashMap<>();
            for (int i = 0; i < OVERFLOW; i++) {
                if (buckets[i] > 0) {
                    hist.put(bucketUs(i), buckets[i]);
                }
            }
            return CpuLatency.of(cpu, hist, buckets[OVERFLOW], samples == 0 ? 0 : minNs / 1000.0,
                    samples == 0 ? 0 : sumNs / 1000.0 / samples, maxNs / 1000.0);
        }
    }

    /**
     * Runs one pinned loop per CPU, all at once, for {@code seconds}, as SCHED_OTHER threads ({@code policy}
     * says why; a SCHED_FIFO busy loop would starve its CPU's kernel threads).
     */
    public ProbeResult run(CpuSet cpus, int seconds, ProbePolicy policy) {
        if (policy.kind() != ProbePolicy.Kind.OTHER) {
            throw new IllegalArgumentException("the built-in probe runs SCHED_OTHER only");
        }
        List<Integer> list = cpus.toList();
        CyclicBarrier start = new CyclicBarrier(list.size());
        List<Thread> threads = new ArrayList<>();
        CpuLatency[] results = new CpuLatency[list.size()];
        RuntimeException[] failures = new RuntimeException[list.size()];
        for (int k = 0; k < list.size(); k++) {
            final int slot = k;
            final int cpu = list.get(k);
            Thread t = new Thread(() -> {
                Loop loop = new Loop();
                try {
                    host.setThreadAffinity(host.callingThreadId(), CpuSet.of(cpu));
                    loop.reset();
                    long warmEnd = System.nanoTime() + warmupNanos;
                    while (System.nanoTime() < warmEnd) {
                        loop.spin(1_000_000); // short calls, so the whole method is compiled, not just its loop
                    }
                    loop.reset();
                    start.await();
                    loop.spin(seconds * 1_000_000_000L);
                    results[slot] = loop.result(cpu);
                } catch (RuntimeException e) {
                    failures[slot] = e;
                    start.reset();
                } catch (Exception e) {
                    failures[slot] = new IllegalStateException(e);
                }
            }, "spin-probe-cpu" + cpu);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw OrchestratorException.data("probe interrupted");
            }
        }
        for (int k = 0; k < list.size(); k++) {
            if (failures[k] != null) {
                if (failures[k] instanceof OrchestratorException oe) {
                    throw oe;
                }
                throw OrchestratorException.data("probe on CPU " + list.get(k) + " failed: " + failures[k].getMessage());
            }
        }
        return new ProbeResult("java-spin", cpus, seconds,
                "built-in busy loop, one thread per CPU, " + (warmupNanos / 1_000_000) + " ms warm-up", policy, List.of(results));
    }
}
