package org.vfioorchestrator.measure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vfioorchestrator.host.KernelText;

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

    private static final Pattern IRQ_ACTION =
            Pattern.compile("(?i)(?:^|\\s)\\S*\\d+(?:-|\\s+)(?:edge|level|fasteoi)\\s+(.+)$");

    /**
     * Parses /proc/interrupts ({@code softirq=false}) or /proc/softirqs: a header of
     * {@code CPUn} columns (only online CPUs, so ids may have gaps), then one row per
     * source. Rows with a single total (ERR, MIS) have no per-CPU columns and are skipped.
     * Keys are {@code irq:45}, {@code irq:LOC}, {@code softirq:TIMER}; labels read
     * {@code IRQ 45 (nvme0q3)}, {@code LOC (Local timer interrupts)}, {@code softirq TIMER}.
     */
    static Map<String, CounterRow> parseCounters(String text, boolean softirq) {
        String[] lines = text.split("\n");
        int header = 0;
        while (header < lines.length && lines[header].isBlank()) {
            header++;
        }
        if (header == lines.length) {
            return Map.of();
        }
        List<Integer> cpus = new ArrayList<>();
        for (String h : lines[header].strip().split("\\s+")) {
            if (!h.startsWith("CPU")) {
                throw new IllegalArgumentException("header column '" + h + "' is not CPUn");
            }
            cpus.add(Integer.parseInt(h.substring(3)));
        }
        Map<String, CounterRow> rows = new LinkedHashMap<>();
        for (int i = header + 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String id = line.substring(0, colon).strip();
            String[] f = line.substring(colon + 1).strip().split("\\s+", cpus.size() + 1);
            if (f.length < cpus.size()) {
                continue; // ERR:, MIS: and the like carry one total, not per-CPU counts
            }
            Map<Integer, Long> perCpu = new LinkedHashMap<>();
            boolean numeric = true;
            for (int c = 0; c < cpus.size(); c++) {
                try {
                    perCpu.put(cpus.get(c), Long.parseLong(f[c]));
                } catch (NumberFormatException e) {
                    numeric = false;
                    break;
                }
            }
            if (!numeric) {
                continue;
            }
            String desc = f.length > cpus.size() ? f[cpus.size()].strip() : "";
            String key = (softirq ? "softirq:" : "irq:") + id;
            rows.put(key, new CounterRow(key, label(id, desc, softirq), perCpu));
        }
        return rows;
    }

    static String label(String id, String desc, boolean softirq) {
        if (softirq) {
            return "softirq " + id;
        }
        if (!KernelText.isNumber(id)) {
            return desc.isEmpty() ? id : id + " (" + desc.replaceAll("\\s+", " ") + ")";
        }
        Matcher m = IRQ_ACTION.matcher(desc);
        String action = m.find() ? m.group(1).strip().replaceAll("\\s+", " ") : "";
        return action.isEmpty() ? "IRQ " + id : "IRQ " + id + " (" + action + ")";
    }
}
