package org.vfioorchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UtcTimeTest {

    @Test
    void printsWhatInstantToStringPrints() {
        // whole seconds, milli-, micro- and nanosecond fractions: Instant prints 0, 3, 6 or 9 digits
        for (Instant t : new Instant[] {Instant.EPOCH, Instant.ofEpochSecond(1_795_000_000L),
                Instant.ofEpochSecond(1_795_000_000L, 120_000_000), Instant.ofEpochSecond(1_795_000_000L, 120_500_000),
                Instant.ofEpochSecond(1_795_000_000L, 1), Instant.parse("9999-12-31T23:59:59.999999999Z")}) {
            assertEquals(t.toString(), UtcTime.format(t));
        }
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < 10_000; i++) {
            Instant t = Instant.ofEpochSecond(r.nextLong(0, 253_402_300_800L), r.nextInt(1_000_000_000));
            assertEquals(t.toString(), UtcTime.format(t));
        }
    }
}
