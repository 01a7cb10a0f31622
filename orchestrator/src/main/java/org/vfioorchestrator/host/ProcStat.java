package org.vfioorchestrator.host;

import java.util.List;

/**
 * The fields of {@code /proc/PID[/task/TID]/stat} this tool reads. The command
 * name sits in parentheses and may itself hold spaces or ')', so fields are
 * counted from the last ')'.
 *
 * @param flags     field 9; {@link #PF_NO_SETAFFINITY} marks per-CPU kernel threads
 * @param startTime field 22, clock ticks since boot: tells a thread from a later one with the same id
 * @param processor field 39, the CPU the task last ran on; -1 where the line stops before it
 */
public record ProcStat(String comm, long flags, long startTime, int processor) {
    /** The kernel's PF_NO_SETAFFINITY: no cpuset or affinity call may move the task. */
    public static final long PF_NO_SETAFFINITY = 0x04000000L;

    /** Parses a stat line; malformed text is an IllegalArgumentException naming what is wrong. */
    public static ProcStat parse(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || close + 2 > stat.length()) {
            throw new IllegalArgumentException("not a /proc stat line: no '(comm)'");
        }
        // after "(comm) " comes field 3 (state): field n is f[n - 3]
        List<String> f = KernelText.words(stat.substring(close + 2));
        if (f.size() < 20) {
            throw new IllegalArgumentException("not a /proc stat line: " + (f.size() + 2) + " fields");
        }
        return new ProcStat(stat.substring(open + 1, close), Long.parseLong(f.get(6)), Long.parseLong(f.get(19)),
                f.size() > 36 ? Integer.parseInt(f.get(36)) : -1);
    }

    public boolean perCpuKernelThread() {
        return (flags & PF_NO_SETAFFINITY) != 0;
    }
}
