package org.vfioorchestrator.plan;

import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;

/** How a kernel file's value is compared: CPU sets as sets, never as the strings the kernel printed. */
public enum ValueFormat {
    CPU_LIST,
    CPU_MASK,
    TEXT,
    /** cpuset.cpus.partition: the kernel appends why a partition is invalid ("isolated invalid (...)"). */
    PARTITION;

    /** True when two readings of the file mean the same thing. */
    public boolean same(String a, String b) {
        String x = a.strip();
        String y = b.strip();
        try {
            return switch (this) {
                case CPU_LIST -> CpuSet.parseList(x).equals(CpuSet.parseList(y));
                case CPU_MASK -> CpuSet.parseMask(x).equals(CpuSet.parseMask(y));
                case TEXT -> x.equals(y);
                case PARTITION -> firstWord(x).equals(firstWord(y));
            };
        } catch (CpuSetFormatException e) {
            return x.equals(y);
        }
    }

    private static String firstWord(String s) {
        int space = s.indexOf(' ');
        return space < 0 ? s : s.substring(0, space);
    }
}
