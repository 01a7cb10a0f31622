package org.vfioorchestrator.measure;

import java.time.Instant;

/**
 * Time for the sampler and probes: a monotonic clock, a sleep and the wall clock.
 * Tests pass a fake whose sleep advances time at once (and moves the counters of
 * a synthetic /proc tree), so a 30 s measurement runs in milliseconds.
 */
public interface Ticker {
    /** Monotonic nanoseconds, like {@link System#nanoTime()}. */
    long nanoTime();

    /** Sleeps about {@code nanos}; returns early only when interrupted. */
    void sleepNanos(long nanos) throws InterruptedException;

    /** Wall-clock time, for report time stamps. */
    Instant now();

    static Ticker system() {
        return SystemTicker.INSTANCE;
    }

    /** The real clock. */
    enum SystemTicker implements Ticker {
        INSTANCE;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleepNanos(long nanos) throws InterruptedException {
            if (nanos > 0) {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            }
        }

        @Override
        public Instant now() {
            return Instant.now();
        }
    }
}
