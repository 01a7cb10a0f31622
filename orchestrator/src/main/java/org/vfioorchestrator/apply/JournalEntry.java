package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.plan.ValueFormat;

/**
 * The before-image of one thing the tool changed, written to the journal before the change is made: one
 * record per kind of change, as {@link org.vfioorchestrator.plan.Change} has. {@code original} is the value
 * before the first VM touched it; {@code expected} the value the tool last wrote (a different value at revert
 * time means someone else changed it: drift).
 *
 * <p>A run writes the entries of all its changes ahead, in one save, before making the first change. Until
 * the run has finished, an entry it updates may still hold the value the tool wrote before (another VM's, or
 * an earlier step of the same run): {@code inFlight} lists those values, so that revert after a crash mid-run
 * knows them as ours instead of reporting drift. A finished run saves the entry again without them.
 *
 * <p>Every record checks itself when it is made, against what this tool writes (paths under
 * {@link #WRITABLE}, thread pins under {@code /proc/PID/task/TID}, plain paths, values without control
 * characters): an entry read from a journal that fails is refused instead of restored, so a journal cannot
 * lead revert to write anywhere else. Each kind knows its JSON form ({@link #toJson}, {@link #fromJson}).
 */
public sealed interface JournalEntry {

    /** Where the tool writes kernel files; cgroups are made, filled and emptied under the first. */
    List<String> WRITABLE = List.of("/sys/fs/cgroup/", "/proc/irq/", "/sys/devices/system/cpu/", "/sys/devices/virtual/workqueue/");

    /** The host path; the key of the entry. */
    String path();

    String original();

    String expected();

    /** The VM whose run made the entry first. */
    String vm();

    /** Values of an unfinished run that may still be there and are ours (see the class comment). */
    default List<String> inFlight() {
        return List.of();
    }

    /** The entry once {@code value} is made: that is what is there now, nothing is in flight. */
    JournalEntry withExpected(String value);

    /**
     * The entry written ahead of making {@code value}: until that is done, the value we wrote before
     * ({@code expected} now) may still be there, and is ours too. Kinds undone by what the host holds,
     * not by comparing it with the value we wrote, keep nothing in flight.
     */
    default JournalEntry ahead(String value) {
        return withExpected(value);
    }

    /** The kind's name in the JSON form. */
    String type();

    /** The JSON form: what a journal holds for this entry. */
    default Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type());
        m.put("path", path());
        m.put("original", original());
        m.put("expected", expected());
        m.put("vm", vm());
        if (!inFlight().isEmpty()) {
            m.put("inFlight", inFlight());
        }
        return m;
    }

    /**
     * An entry from its JSON form; {@link IllegalArgumentException} says what is missing, ill-typed or
     * not something this tool writes.
     */
    static JournalEntry fromJson(Object json) {
        if (!(json instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonFields f = new JsonFields(map);
        String type = f.string("type");
        if (type == null) {
            throw new IllegalArgumentException("'type' is missing");
        }
        return switch (type) {
            case FileWritten.TYPE -> new FileWritten(f.string("path"), f.string("original"), f.string("expected"),
                    f.valueFormat("format"), f.string("vm"), f.strings("inFlight"));
            case ControllerEnabled.TYPE -> new ControllerEnabled(f.string("path"), f.string("original"),
                    f.string("expected"), f.string("vm"));
            case CgroupMade.TYPE -> new CgroupMade(f.string("path"), f.string("original"), f.string("expected"), f.string("vm"));
            case ProcessesMoved.TYPE -> new ProcessesMoved(f.string("path"), f.string("original"), f.string("expected"),
                    f.string("from"), f.ids("pids"), f.string("vm"));
            case ThreadPinned.TYPE -> new ThreadPinned(f.string("path"), f.string("original"), f.string("expected"),
                    f.string("vm"), f.id("tid"), f.wholeNumber("startTime"), f.string("label"), f.strings("inFlight"));
            case UnitPropertySet.TYPE -> new UnitPropertySet(f.string("path"), f.string("original"), f.string("expected"),
                    f.string("vm"), f.string("unit"), f.string("property"), f.string("dropInBefore"), f.strings("inFlight"));
            default -> throw new IllegalArgumentException("'type' is '" + type + "', which is none of " + FileWritten.TYPE
                    + ", " + ControllerEnabled.TYPE + ", " + CgroupMade.TYPE + ", " + ProcessesMoved.TYPE + ", "
                    + ThreadPinned.TYPE + " and " + UnitPropertySet.TYPE);
        };
    }

    /** A value written into an existing kernel file; undone by writing {@code original} back. */
    record FileWritten(String path, String original, String expected, ValueFormat format, String vm, List<String> inFlight)
            implements JournalEntry {
        static final String TYPE = "WRITE";

        public FileWritten {
            EntryChecks.writable(path);
            EntryChecks.values(original, expected, vm, inFlight);
            if (format == null) {
                throw new IllegalArgumentException("'format' is missing");
            }
            inFlight = List.copyOf(inFlight);
        }

        @Override
        public FileWritten withExpected(String value) {
            return new FileWritten(path, original, value, format, vm, List.of());
        }

        @Override
        public FileWritten ahead(String value) {
            return new FileWritten(path, original, value, format, vm, EntryChecks.inFlightAhead(inFlight, expected, value));
        }

        /** Whether the file's value {@code now} is one we wrote (the last one, or one of an unfinished run). */
        public boolean wroteValue(String now) {
            return EntryChecks.wrote(format, now, expected, inFlight);
        }

        @Override
        public String type() {
            return TYPE;
        }

        @Override
        public Map<String, Object> toJson() {
            Map<String, Object> m = JournalEntry.super.toJson();
            m.put("format", format.name());
            return m;
        }
    }

    /** {@code +cpuset} written into a cgroup v2 {@code cgroup.subtree_control}; undone by {@code -cpuset}. */
    record ControllerEnabled(String path, String original, String expected, String vm) implements JournalEntry {
        static final String TYPE = "ENABLE_CONTROLLER";

        public ControllerEnabled {
            EntryChecks.cgroupFile(path, "cgroup.subtree_control");
            EntryChecks.values(original, expected, vm, List.of());
        }

        @Override
        public ControllerEnabled withExpected(String value) {
            return new ControllerEnabled(path, original, value, vm);
        }

        @Override
        public String type() {
            return TYPE;
        }
    }

    /** A cgroup the tool created (v1 host cpuset); undone by removing it. */
    record CgroupMade(String path, String original, String expected, String vm) implements JournalEntry {
        static final String TYPE = "MAKE_CGROUP";

        public CgroupMade {
            EntryChecks.cgroup(path);
            if (!path.startsWith(WRITABLE.get(0))) {
                throw new IllegalArgumentException(path + " is the cgroup file system's mount, not a cgroup made below it");
            }
            EntryChecks.values(original, expected, vm, List.of());
        }

        @Override
        public CgroupMade withExpected(String value) {
            return new CgroupMade(path, original, value, vm);
        }

        @Override
        public String type() {
            return TYPE;
        }
    }

    /**
     * Processes moved from the cgroup {@code from} into the one whose {@code cgroup.procs} is {@code path} (v1);
     * undone by moving everything in it back, whoever started since. {@code pids}: the ones moved, for reports.
     */
    record ProcessesMoved(String path, String original, String expected, String from, List<Integer> pids, String vm)
            implements JournalEntry {
        static final String TYPE = "MOVE_PROCESSES";

        public ProcessesMoved {
            EntryChecks.cgroupFile(path, "cgroup.procs");
            EntryChecks.cgroup(from);
            EntryChecks.values(original, expected, vm, List.of());
            pids = List.copyOf(pids);
        }

        /** The cgroup the processes were moved into. */
        public String to() {
            return path.substring(0, path.lastIndexOf('/'));
        }

        /** With the processes of {@code moved} added to those it lists. */
        ProcessesMoved withPids(List<Integer> moved) {
            List<Integer> all = new ArrayList<>(pids);
            for (int pid : moved) {
                if (!all.contains(pid)) {
                    all.add(pid);
                }
            }
            return new ProcessesMoved(path, original, expected, from, all, vm);
        }

        @Override
        public ProcessesMoved withExpected(String value) {
            return new ProcessesMoved(path, original, value, from, pids, vm);
        }

        @Override
        public String type() {
            return TYPE;
        }

        @Override
        public Map<String, Object> toJson() {
            Map<String, Object> m = JournalEntry.super.toJson();
            m.put("from", from);
            m.put("pids", pids);
            return m;
        }
    }

    /**
     * A QEMU thread pinned: {@code original} and {@code expected} are CPU lists. {@code startTime} guards
     * against a thread id the kernel gave to a new thread since; {@code label} is the thread's name.
     */
    record ThreadPinned(String path, String original, String expected, String vm, int tid, long startTime, String label,
            List<String> inFlight) implements JournalEntry {
        static final String TYPE = "PIN_THREAD";

        public ThreadPinned {
            EntryChecks.text("path", path);
            if (!path.equals("/proc/" + pidOf(path) + "/task/" + tid)) {
                throw new IllegalArgumentException("a pin of thread " + tid + " is at /proc/PID/task/" + tid + ", not " + path);
            }
            EntryChecks.values(original, expected, vm, inFlight);
            EntryChecks.cpuLists(inFlight, original, expected);
            if (label == null) {
                throw new IllegalArgumentException("'label' is missing");
            }
            inFlight = List.copyOf(inFlight);
        }

        /** PID of /proc/PID/task/TID, or -1 for a path of another shape. */
        private static int pidOf(String path) {
            String[] parts = path.split("/", -1);
            if (parts.length != 5 || !parts[0].isEmpty() || !parts[1].equals("proc") || !parts[3].equals("task")) {
                return -1;
            }
            try {
                int pid = Integer.parseInt(parts[2]);
                return pid > 0 && parts[2].equals(Integer.toString(pid)) ? pid : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        /** The process the thread belongs to. */
        public int pid() {
            return pidOf(path);
        }

        /** Whether the thread's affinity {@code now} is one we set (the last one, or one of an unfinished run). */
        public boolean wroteAffinity(CpuSet now) {
            return EntryChecks.wrote(ValueFormat.CPU_LIST, now.toString(), expected, inFlight);
        }

        @Override
        public ThreadPinned withExpected(String value) {
            return new ThreadPinned(path, original, value, vm, tid, startTime, label, List.of());
        }

        @Override
        public ThreadPinned ahead(String value) {
            return new ThreadPinned(path, original, value, vm, tid, startTime, label,
                    EntryChecks.inFlightAhead(inFlight, expected, value));
        }

        @Override
        public String type() {
            return TYPE;
        }

        @Override
        public Map<String, Object> toJson() {
            Map<String, Object> m = JournalEntry.super.toJson();
            m.put("tid", tid);
            m.put("startTime", startTime);
            m.put("label", label);
            return m;
        }
    }

    /**
     * A systemd unit's runtime property ({@code systemctl set-property --runtime}), which systemd keeps in the
     * drop-in {@code path}: {@code original} and {@code expected} are property values (CPU lists, '' for all),
     * {@code dropInBefore} the drop-in's text before the first VM, null where there was none. Undone by setting
     * the property back and putting that drop-in back as it was. Only AllowedCPUs of a slice or scope, and a
     * drop-in that says nothing else, are taken: a journal cannot make revert write any other unit setting.
     */
    record UnitPropertySet(String path, String original, String expected, String vm, String unit, String property,
            String dropInBefore, List<String> inFlight) implements JournalEntry {
        static final String TYPE = "SET_UNIT_PROPERTY";

        public UnitPropertySet {
            EntryChecks.unitProperty(unit, property);
            if (!org.vfioorchestrator.host.Systemd.dropIn(unit, property).equals(path)) {
                throw new IllegalArgumentException("the drop-in of " + unit + "'s " + property + " is "
                        + org.vfioorchestrator.host.Systemd.dropIn(unit, property) + ", not " + path);
            }
            EntryChecks.values(original, expected, vm, inFlight);
            EntryChecks.cpuLists(inFlight, original, expected);
            if (dropInBefore != null) {
                EntryChecks.allowedCpusDropIn(dropInBefore, property);
            }
            inFlight = List.copyOf(inFlight);
        }

        /** Whether the property's value {@code now} is one we set (the last one, or one of an unfinished run). */
        public boolean wroteValue(String now) {
            return EntryChecks.wrote(ValueFormat.CPU_LIST, now, expected, inFlight);
        }

        @Override
        public UnitPropertySet withExpected(String value) {
            return new UnitPropertySet(path, original, value, vm, unit, property, dropInBefore, List.of());
        }

        @Override
        public UnitPropertySet ahead(String value) {
            return new UnitPropertySet(path, original, value, vm, unit, property, dropInBefore,
                    EntryChecks.inFlightAhead(inFlight, expected, value));
        }

        @Override
        public String type() {
            return TYPE;
        }

        @Override
        public Map<String, Object> toJson() {
            Map<String, Object> m = JournalEntry.super.toJson();
            m.put("unit", unit);
            m.put("property", property);
            if (dropInBefore != null) {
                m.put("dropInBefore", dropInBefore);
            }
            return m;
        }
    }
}
