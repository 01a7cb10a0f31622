package org.vfioorchestrator;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Time stamps for the hook log and the journal: ISO-8601 in UTC, exactly as {@link Instant#toString}
 * prints them. Formatted through {@link LocalDateTime} because {@code Instant.toString} builds the
 * JDK's whole {@code DateTimeFormatter} machinery first: about 40 more classes on every hook call.
 */
public final class UtcTime {
    private UtcTime() {
    }

    public static String now() {
        return format(Instant.now());
    }

    public static String format(Instant t) {
        String text = LocalDateTime.ofEpochSecond(t.getEpochSecond(), t.getNano(), ZoneOffset.UTC).toString();
        // LocalDateTime leaves out ":00" seconds when there is no fraction either; Instant does not
        return (text.length() == "2026-01-01T00:00".length() ? text + ":00" : text) + "Z";
    }
}
