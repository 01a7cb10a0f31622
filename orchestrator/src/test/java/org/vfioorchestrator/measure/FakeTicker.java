package org.vfioorchestrator.measure;

import java.time.Instant;
import java.util.function.IntConsumer;

/** A clock whose sleep returns at once; after each sleep it calls {@code onSecond} with the second reached. */
final class FakeTicker implements Ticker {
    private final Instant base;
    private final IntConsumer onSecond;
    private long nanos = 5_000_000_000L;
    private final long start = nanos;

    FakeTicker(Instant base, IntConsumer onSecond) {
        this.base = base;
        this.onSecond = onSecond;
    }

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public void sleepNanos(long n) {
        if (n > 0) {
            nanos += n;
        }
        onSecond.accept((int) ((nanos - start) / 1_000_000_000L));
    }

    @Override
    public Instant now() {
        return base.plusNanos(nanos - start);
    }
}
