package org.vfioorchestrator.apply;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.plan.ValueFormat;

/**
 * The before-image of one thing the tool changed, written to the journal
 * before the change is made. {@code original} is the value before the first
 * VM touched it; {@code expected} the value the tool last wrote (a different
 * value at revert time means someone else changed it: drift).
 *
 * @param type     what kind of change (see {@link Type})
 * @param path     the host path; the key of the entry
 * @param format   how values compare (write entries)
 * @param from     move entries: the cgroup the processes came from
 * @param tid      pin entries: the thread; {@code startTime} guards against tid reuse
 */
public record JournalEntry(Type type, String path, String original, String expected, ValueFormat format, String from,
        List<Integer> pids, String vm, int tid, long startTime, String label) {

    public enum Type { WRITE, ENABLE_CONTROLLER, MAKE_CGROUP, MOVE_PROCESSES, PIN_THREAD }

    public JournalEntry withExpected(String value) {
        return new JournalEntry(type, path, original, value, format, from, pids, vm, tid, startTime, label);
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
        return m;
    }

    @SuppressWarnings("unchecked")
    static JournalEntry fromJson(Map<String, Object> m) {
        Type type = Type.valueOf(string(m, "type", true));
        String format = string(m, "format", false);
        List<Integer> pids = null;
        if (m.get("pids") instanceof List<?> list) {
            pids = list.stream().map(o -> ((Number) o).intValue()).toList();
        }
        return new JournalEntry(type, string(m, "path", true), string(m, "original", false), string(m, "expected", false),
                format == null ? null : ValueFormat.valueOf(format), string(m, "from", false), pids, string(m, "vm", false),
                m.get("tid") instanceof Number n ? n.intValue() : 0,
                m.get("startTime") instanceof Number n ? n.longValue() : 0, string(m, "label", false));
    }

    private static String string(Map<String, Object> m, String key, boolean required) {
        Object v = m.get(key);
        if (v == null && required) {
            throw new IllegalArgumentException("entry without '" + key + "'");
        }
        return v == null ? null : v.toString();
    }
}
