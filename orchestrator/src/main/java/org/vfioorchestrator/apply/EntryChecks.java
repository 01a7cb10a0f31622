package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ValueFormat;

/** What every kind of {@link JournalEntry} checks when it is made: {@link IllegalArgumentException} says what is wrong. */
final class EntryChecks {
    private static final String CGROUPS = JournalEntry.WRITABLE.get(0);

    private EntryChecks() {
    }

    /** A kernel file this tool writes. */
    static void writable(String path) {
        plain(path);
        for (String prefix : JournalEntry.WRITABLE) {
            if (path.startsWith(prefix) && path.length() > prefix.length()) {
                return;
            }
        }
        throw new IllegalArgumentException(path + " is not a file this tool writes (it writes only under "
                + String.join(", ", JournalEntry.WRITABLE) + ")");
    }

    /** The cgroup file system's mount or a cgroup below it. */
    static void cgroup(String path) {
        plain(path);
        if (!path.startsWith(CGROUPS) && !path.equals(CGROUPS.substring(0, CGROUPS.length() - 1))) {
            throw new IllegalArgumentException(path + " is not a cgroup under " + CGROUPS);
        }
    }

    /** A cgroup's control file {@code name}. */
    static void cgroupFile(String path, String name) {
        cgroup(path);
        if (!path.startsWith(CGROUPS) || !path.endsWith("/" + name)) {
            throw new IllegalArgumentException(path + " is not a cgroup's " + name);
        }
    }

    /** Absolute, no empty, "." or ".." segment: a path means what it says. */
    static void plain(String path) {
        text("path", path);
        if (!HostFs.isPlainPath(path)) {
            throw new IllegalArgumentException("'" + path + "' is not a plain absolute path (no '..', '.', '//' or trailing '/')");
        }
    }

    static void values(String original, String expected, String vm, List<String> inFlight) {
        text("original", original);
        text("expected", expected);
        text("vm", vm);
        if (vm.isEmpty()) {
            throw new IllegalArgumentException("'vm' is empty");
        }
        for (String v : inFlight) {
            text("inFlight", v);
        }
    }

    /** A single-line value: what a kernel file held, a name. */
    static void text(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException("'" + field + "' is missing");
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < 0x20 || value.charAt(i) == 0x7f) {
                throw new IllegalArgumentException("'" + field + "' has a control character");
            }
        }
    }

    static void cpuLists(List<String> inFlight, String original, String expected) {
        List<String> all = new ArrayList<>(inFlight);
        all.add(original);
        all.add(expected);
        for (String cpus : all) {
            try {
                CpuSet.parseList(cpus);
            } catch (CpuSetFormatException e) {
                throw new IllegalArgumentException("'" + cpus + "' is not a CPU list: " + e.getMessage());
            }
        }
    }

    /** AllowedCPUs of a slice or scope: the one unit property this tool sets. */
    static void unitProperty(String unit, String property) {
        text("unit", unit);
        text("property", property);
        if (!property.equals("AllowedCPUs")) {
            throw new IllegalArgumentException("'property' is '" + property + "'; this tool sets only AllowedCPUs");
        }
        if (!(unit.endsWith(".slice") || unit.endsWith(".scope")) || unit.startsWith(".") || unit.length() > 255
                || !unit.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 0x80 || c == '-' || c == '_' || c == '.'
                        || c == '@' || c == ':' || c == '\\')) {
            throw new IllegalArgumentException("'" + unit + "' is not the name of a slice or scope");
        }
    }

    /**
     * A runtime drop-in as systemd writes one for {@code property}: comments, one section header, and
     * assignments of that property to CPU lists. Anything else (ExecStart=, another property) is refused.
     */
    static void allowedCpusDropIn(String text, String property) {
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty() || line.startsWith("#") || line.equals("[Slice]") || line.equals("[Scope]")) {
                continue;
            }
            if (line.startsWith(property + "=")) {
                cpuLists(List.of(), line.substring(property.length() + 1), "");
                continue;
            }
            throw new IllegalArgumentException("'dropInBefore' has a line this tool never restores: '"
                    + (line.length() > 60 ? line.substring(0, 60) + "..." : line) + "'");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\n') || c == 0x7f) {
                throw new IllegalArgumentException("'dropInBefore' has a control character");
            }
        }
    }

    /** Whether {@code now} is a value the entry wrote: its last one, or one of an unfinished run. */
    static boolean wrote(ValueFormat format, String now, String expected, List<String> inFlight) {
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

    /** The values in flight once {@code value} is written ahead over {@code expected}. */
    static List<String> inFlightAhead(List<String> inFlight, String expected, String value) {
        List<String> maybeThere = new ArrayList<>(inFlight);
        if (!expected.equals(value) && !maybeThere.contains(expected)) {
            maybeThere.add(expected);
        }
        return maybeThere;
    }
}
