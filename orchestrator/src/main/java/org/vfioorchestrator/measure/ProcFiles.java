package org.vfioorchestrator.measure;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.host.ProcInterrupts;

/** Parsers for the /proc files the sampler reads. Pure functions over the text the kernel printed. */
final class ProcFiles {
    private ProcFiles() {
    }

    /** {@code /proc/PID/task/TID/schedstat}: "runtime_ns waitqueue_ns timeslices". */
    record SchedStat(long runNs, long waitNs, long slices) {
        static Optional<SchedStat> parse(String text) {
            String[] f = text.strip().split("\\s+");
            if (f.length < 3) {
                return Optional.empty();
            }
            try {
                return Optional.of(new SchedStat(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    /** One row of /proc/interrupts or /proc/softirqs: counts per CPU id. */
    record CounterRow(String key, String label, Map<Integer, Long> perCpu) {
    }

    /**
     * Parses /proc/interrupts ({@code softirq=false}) or /proc/softirqs with {@link ProcInterrupts}.
     * Keys are {@code irq:45}, {@code irq:LOC}, {@code softirq:TIMER}; labels read
     * {@code IRQ 45 (nvme0q3)}, {@code LOC (Local timer interrupts)}, {@code softirq TIMER}.
     *
     * @throws IllegalArgumentException when the header's columns are not {@code CPUn}
     */
    static Map<String, CounterRow> parseCounters(String text, boolean softirq) {
        ProcInterrupts.Table table;
        try {
            table = ProcInterrupts.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        Map<String, CounterRow> rows = new LinkedHashMap<>();
        for (ProcInterrupts.Row row : table.rows()) {
            Map<Integer, Long> perCpu = new LinkedHashMap<>();
            for (int c = 0; c < table.cpus().size(); c++) {
                perCpu.put(table.cpus().get(c), row.counts()[c]);
            }
            String key = (softirq ? "softirq:" : "irq:") + row.id();
            rows.put(key, new CounterRow(key, label(row, softirq), perCpu));
        }
        return rows;
    }

    static String label(ProcInterrupts.Row row, boolean softirq) {
        if (softirq) {
            return "softirq " + row.id();
        }
        if (row.irq() < 0) {
            return row.words().isEmpty() ? row.id() : row.id() + " (" + row.description() + ")";
        }
        return row.actions().isEmpty() ? "IRQ " + row.id() : "IRQ " + row.id() + " (" + row.actions() + ")";
    }
}
