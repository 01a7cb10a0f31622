package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.plan.ValueFormat;

/**
 * The before-image of one thing the tool changed, written to the journal
 * before the change is made. {@code original} is the value before the first
 * VM touched it; {@code expected} the value the tool last wrote (a different
 * value at revert time means someone else changed it: drift).
 *
 * <p>A run writes the entries of all its changes ahead, in one save, before
 * making the first change. Until the run has finished, an entry it updates may
 * still hold the value the tool wrote before (another VM's, or an earlier step
 * of the same run): {@code inFlight} lists those values, so that revert after a
 * crash mid-run knows them as ours instead of reporting drift. A finished run
 * saves the entry again without them.
 *
 * @param type     what kind of change (see {@link Type})
 * @param path     the host path; the key of the entry
 * @param format   how values compare (write entries)
 * @param from     move entries: the cgroup the processes came from
 * @param tid      pin entries: the thread; {@code startTime} guards against tid reuse
 */
public record JournalEntry(Type type, String path, String original, String expected, ValueFormat format, String from,
        List<Integer> pids, String vm, int tid, long startTime, String label, List<String> inFlight) {

    public enum Type { WRITE, ENABLE_CONTROLLER, MAKE_CGROUP, MOVE_PROCESSES, PIN_THREAD }

    public JournalEntry {
        inFlight = inFlight == null ? List.of() : List.copyOf(inFlight);
    }

    /** The entry once {@code value} is written: that is what is there now. */
    public JournalEntry withExpected(String value) {
        return new JournalEntry(type, path, original, value, format, from, pids, vm, tid, startTime, label, List.of());
    }

    /**
     * The entry written ahead of writing {@code value}: until the write is done, the value we wrote
     * before ({@code expected} now) may still be there, and is ours too.
     */
    JournalEntry ahead(String value) {
        List<String> maybeThere = new ArrayList<>(inFlight);
        if (expected != null && !expected.equals(value) && !maybeThere.contains(expected)) {
            maybeThere.add(expected);
        }
        return new JournalEntry(type, path, original, value, format, from, pids, vm, tid, startTime, label, maybeThere);
    }

    /** Whether the file's value {@code now} is one we wrote (the last one, or one of an unfinished run). */
    public boolean wroteValue(String now) {
        if (format.same(now, expected)) {
            return true;
        }
        for (String v : inFlight) {
            if (format.same(now, v)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the thread's affinity {@code now} is one we set (the last one, or one of an unfinished run). */
    public boolean wroteAffinity(CpuSet now) {
        if (now.equals(CpuSet.parseList(expected))) {
            return true;
        }
        for (String v : inFlight) {
            if (now.equals(CpuSet.parseList(v))) {
                return true;
            }
        }
        return false;
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type.name());
        m.put("path", path);
        m.put("original", original);
        m.put("expected", expected);
        if (format != null) {
            m.put("format", format.name());
        }
        if (from != null) {
            m.put("from", from);
        }
        if (pids != null) {
            m.put("pids", pids);
        }
        if (vm != null) {
            m.put("vm", vm);
        }
        if (type == Type.PIN_THREAD) {
            m.put("tid", tid);
            m.put("startTime", startTime);
        }
        if (label != null) {
            m.put("label", label);
        }
        if (!inFlight.isEmpty()) {
            m.put("inFlight", inFlight);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static JournalEntry fromJson(Map<String, Object> m) {
        Type type = Type.valueOf(string(m, "type", true));
        String format = string(m, "format", false);
        List<Integer> pids = null;
        if (m.get("pids") instanceof List<?> list) {
            List<Integer> numbers = new ArrayList<>();
            for (Object o : list) {
                numbers.add(((Number) o).intValue());
            }
            pids = List.copyOf(numbers);
        }
        List<String> inFlight = null;
        if (m.get("inFlight") instanceof List<?> list) {
            List<String> values = new ArrayList<>();
            for (Object o : list) {
                values.add(String.valueOf(o));
            }
            inFlight = List.copyOf(values);
        }
        return new JournalEntry(type, string(m, "path", true), string(m, "original", false), string(m, "expected", false),
                format == null ? null : ValueFormat.valueOf(format), string(m, "from", false), pids, string(m, "vm", false),
                m.get("tid") instanceof Number n ? n.intValue() : 0,
                m.get("startTime") instanceof Number n ? n.longValue() : 0, string(m, "label", false), inFlight);
    }

    private static String string(Map<String, Object> m, String key, boolean required) {
        Object v = m.get(key);
        if (v == null && required) {
            throw new IllegalArgumentException("entry without '" + key + "'");
        }
        return v == null ? null : v.toString();
    }
}
