package org.vfioorchestrator.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The one reader of {@code /proc/interrupts}, and of {@code /proc/softirqs}, which the kernel lays
 * out the same way: a header of {@code CPUn} columns (online CPUs only, so ids may have gaps), then a
 * row per source, {@code "ID: count count ... words"}, where an IRQ's words are its chip, its hardware
 * IRQ and its actions ({@code IR-PCI-MSIX 3-edge nvme0q3}) and a named row's are its description
 * ({@code LOC: ... Local timer interrupts}). Read as a byte stream: with 1024 CPUs and 12,800 IRQs the
 * file is 145 MB, so it is never held whole, and counts are only parsed when asked for.
 */
public final class ProcInterrupts {
    private ProcInterrupts() {
    }

    /**
     * One row.
     *
     * @param id     what stands before the colon: {@code 45}, {@code LOC}, {@code TIMER}
     * @param counts one count per header column; null unless counts were asked for
     * @param words  the whitespace-separated words after the counts
     */
    public record Row(String id, long[] counts, List<String> words) {
        public Row {
            words = List.copyOf(words);
        }

        /** The IRQ number, or -1 for a named row (LOC, NMI, a softirq). */
        public int irq() {
            return KernelText.numberAfter("", id);
        }

        /** An IRQ's interrupt chip: the first word. */
        public String chip() {
            return words.isEmpty() ? "" : words.get(0);
        }

        /** An IRQ's actions (its handlers' names): the words after the chip and the hardware IRQ. */
        public String actions() {
            return words.size() > 2 ? String.join(" ", words.subList(2, words.size())) : "";
        }

        /** All the words: a named row's description. */
        public String description() {
            return String.join(" ", words);
        }
    }

    /**
     * @param cpus the header's CPU ids, one per count column
     * @param rows the rows in the file's order
     */
    public record Table(List<Integer> cpus, List<Row> rows) {
        public Table {
            cpus = List.copyOf(cpus);
            rows = List.copyOf(rows);
        }
    }

    /**
     * Reads the file. Without counts every row whose label ends in a colon is kept, its count columns
     * passed over; with counts only rows that have a number in every column (ERR and MIS carry one
     * total, not a count per CPU).
     *
     * @throws IllegalArgumentException with counts, when a header column is not {@code CPUn}
     */
    public static Table read(InputStream stream, boolean counts) throws IOException {
        LineTokens line = new LineTokens(stream);
        List<Integer> cpus = new ArrayList<>();
        if (!line.next()) {
            return new Table(cpus, List.of());
        }
        int columns = 0;
        for (int[] t = line.token(); t != null; t = line.token()) {
            String h = line.text(t, 0);
            int id = h.startsWith("CPU") ? KernelText.numberAfter("CPU", h) : -1;
            if (id < 0 && counts) {
                throw new IllegalArgumentException("header column '" + h + "' is not CPUn");
            }
            cpus.add(id);
            columns++;
        }
        List<Row> rows = new ArrayList<>();
        while (line.next()) {
            int[] label = line.token();
            if (label == null || label[1] - label[0] < 2 || line.buf[label[1] - 1] != ':') {
                continue;
            }
            String id = line.text(label, 1);
            long[] values = counts ? new long[columns] : null;
            if (counts) {
                if (!line.counts(values)) {
                    continue;
                }
            } else if (!line.skipKernelCounts(columns)) {
                boolean more = true;
                for (int i = 0; i < columns && more; i++) {
                    more = line.skipToken();
                }
            }
            List<String> words = new ArrayList<>();
            for (int[] t = line.token(); t != null; t = line.token()) {
                words.add(line.text(t, 0));
            }
            rows.add(new Row(id, values, words));
        }
        return new Table(cpus, rows);
    }

    /**
     * One line at a time from a stream, as bytes in a buffer of its own (no per-byte calls, no
     * copy of the line), with whitespace-separated tokens read in order.
     */
    private static final class LineTokens {
        /** A count column: a space and a u32 right-aligned in 10 places. */
        static final int COUNT_WIDTH = 11;
        private final InputStream in;
        byte[] buf = new byte[1 << 16];
        private int limit;     // bytes read into buf
        private int lineEnd;   // the current line is buf[.., lineEnd)
        private int nextLine;  // where the line after it starts
        private int pos;       // the token cursor in the current line
        private boolean eof;

        LineTokens(InputStream in) {
            this.in = in;
        }

        /** Moves to the next line (without its newline); false at the end of the stream. */
        boolean next() throws IOException {
            int from = nextLine;
            int scan = from;
            while (true) {
                for (int i = scan; i < limit; i++) {
                    if (buf[i] == '\n') {
                        pos = from;
                        lineEnd = i;
                        nextLine = i + 1;
                        return true;
                    }
                }
                if (eof) {
                    pos = from;
                    lineEnd = limit;
                    nextLine = limit;
                    return from < limit;
                }
                // keep the partial line at the start of the buffer (grown when one line fills it), read more
                int keep = limit - from;
                if (from > 0) {
                    System.arraycopy(buf, from, buf, 0, keep);
                } else if (keep == buf.length) {
                    buf = java.util.Arrays.copyOf(buf, buf.length * 2);
                }
                from = 0;
                scan = keep;
                limit = keep;
                int r = in.read(buf, limit, buf.length - limit);
                if (r < 0) {
                    eof = true;
                } else {
                    limit += r;
                }
            }
        }

        private static boolean space(byte b) {
            return b == ' ' || b == '\t' || b == '\r' || b == '\f' || b == 0x0b;
        }

        /** The next token's {from, to} in {@link #buf}, or null at the end of the line. */
        int[] token() {
            while (pos < lineEnd && space(buf[pos])) {
                pos++;
            }
            if (pos == lineEnd) {
                return null;
            }
            int from = pos;
            while (pos < lineEnd && !space(buf[pos])) {
                pos++;
            }
            return new int[] {from, pos};
        }

        /**
         * Skips {@code n} count columns laid out as the kernel prints them, ": %10u %10u ..." or
         * ": %10u" ... (a u32 never needs more than the 10 places): each column's last digit
         * {@link #COUNT_WIDTH} places after the previous one's, followed by a space. Only those two
         * bytes per column are looked at, not all eleven (on a 1024-CPU host the counts are 145 MB),
         * so a column with a space inside would pass (the kernel prints none); false, the cursor
         * unchanged, for a row laid out otherwise.
         */
        boolean skipKernelCounts(int n) {
            int lastDigit = pos + COUNT_WIDTH - 1;
            int end = pos + n * COUNT_WIDTH;
            if (end >= lineEnd) {
                return false;
            }
            for (; lastDigit < end; lastDigit += COUNT_WIDTH) {
                byte b = buf[lastDigit];
                if (b < '0' || b > '9' || buf[lastDigit + 1] != ' ') {
                    return false;
                }
            }
            pos = end;
            return true;
        }

        /** Skips the next token; false if the line had none left. */
        boolean skipToken() {
            while (pos < lineEnd && space(buf[pos])) {
                pos++;
            }
            if (pos == lineEnd) {
                return false;
            }
            while (pos < lineEnd && !space(buf[pos])) {
                pos++;
            }
            return true;
        }

        /** The token's text, without its last {@code dropEnd} bytes (a label's colon). */
        String text(int[] t, int dropEnd) {
            return new String(buf, t[0], t[1] - t[0] - dropEnd, StandardCharsets.UTF_8);
        }

        /** Reads one count per element of {@code into}; false when the row runs out or a column is not a number. */
        boolean counts(long[] into) {
            for (int i = 0; i < into.length; i++) {
                int[] t = token();
                if (t == null) {
                    return false;
                }
                long v = 0;
                for (int b = t[0]; b < t[1]; b++) {
                    if (buf[b] < '0' || buf[b] > '9' || b - t[0] > 18) {
                        return false;
                    }
                    v = v * 10 + (buf[b] - '0');
                }
                into[i] = v;
            }
            return true;
        }
    }
}
