package org.vfioorchestrator.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splitting and matching the short texts of kernel files and names (a stat line, a list of
 * governors, {@code cpu12}) without regular expressions: in the fresh JVM of each hook call,
 * java.util.regex costs about 10 ms to start, and every {@code split("\\s+")} compiles a pattern.
 */
public final class KernelText {
    private KernelText() {
    }

    /**
     * The words of a text, split at runs of white space; none for blank text. The same words as
     * {@code text.strip().split("\\s+")}, which gives one empty word for a blank text.
     */
    public static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= text.length(); i++) {
            boolean space = i == text.length() || isSpace(text.charAt(i));
            if (space && start >= 0) {
                out.add(text.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
        }
        return out;
    }

    /** The white space of {@code \s}: space, tab, line feed, vertical tab, form feed, carriage return. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** Whether the text is one or more ASCII digits: a PID, an IRQ number. */
    public static boolean isNumber(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The number {@code name} ends in after {@code prefix} ({@code numberAfter("cpu", "cpu12")} is 12);
     * -1 unless the rest is one to nine ASCII digits.
     */
    public static int numberAfter(String prefix, String name) {
        int n = name.length() - prefix.length();
        if (n < 1 || n > 9 || !name.startsWith(prefix)) {
            return -1;
        }
        int v = 0;
        for (int i = prefix.length(); i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** A field of a /proc {@code status} file ({@code Cpus_allowed_list:\t0-3} gives "0-3"), or empty. */
    public static Optional<String> statusField(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key) && line.length() > key.length() && line.charAt(key.length()) == ':') {
                return Optional.of(line.substring(key.length() + 1).strip());
            }
        }
        return Optional.empty();
    }
}
