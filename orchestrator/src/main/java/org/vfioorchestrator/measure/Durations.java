package org.vfioorchestrator.measure;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one parser of the durations users type, on the command line ({@code measure --duration}) and in a
 * profile ({@code measure.duration}): {@code 30s}, {@code 2m}, {@code 1h}, {@code 500ms}, or plain seconds.
 */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,7})(ms|s|m|h)?");

    /** Longest measurement we accept: a day. */
    public static final Duration MAX = Duration.ofDays(1);

    private Durations() {
    }

    /** @throws IllegalArgumentException with a message that says what to write instead */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; write it like 500ms, 30s, 2m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("'" + text + "' is shorter than the 1 s sampling interval; give at least 1s");
        }
        if (d.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("'" + text + "' is longer than a day; give at most 24h");
        }
        return d;
    }

    /** Whole seconds, rounded up: the number of 1 s windows a measurement takes. */
    public static int seconds(Duration d) {
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return (int) Math.max(1, s);
    }

    /** {@code 30s}, {@code 2m}, {@code 1h30m}: how durations are printed. */
    public static String format(Duration d) {
        long s = seconds(d);
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s >= 3600) {
            return s / 3600 + "h" + (s % 3600) / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
