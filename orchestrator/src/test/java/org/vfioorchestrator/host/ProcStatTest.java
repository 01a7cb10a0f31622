package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcStatTest {
    private static final String TAIL = " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    @Test
    void fieldsCountFromTheLastParenthesisSoACommWithSpacesAndParensParses() {
        ProcStat s = ProcStat.parse("4101 (CPU 0/KVM) (x)) S 4090 4090 0 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 12 0 987654" + TAIL);
        assertEquals("CPU 0/KVM) (x)", s.comm());
        assertEquals(4194624, s.flags());
        assertEquals(987654, s.startTime());
        assertFalse(s.perCpuKernelThread());
    }

    @Test
    void processorIsField39AndMinusOneWhereTheLineStopsBeforeIt() {
        String[] tail = TAIL.strip().split(" ");
        tail[16] = "5"; // field 39: the tail starts at field 23
        String head = "4101 (CPU 0/KVM) S 4090 4090 0 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 12 0 987654 ";
        assertEquals(5, ProcStat.parse(head + String.join(" ", tail) + "\n").processor());
        assertEquals(-1, ProcStat.parse(head + "0 0 0\n").processor());
    }

    @Test
    void perCpuKernelThreadsCarryPfNoSetaffinity() {
        assertTrue(ProcStat.parse("14 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 0 0 0 0 20 0 1 0 5" + TAIL).perCpuKernelThread());
    }

    @Test
    void aTruncatedLineIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("12 (bash) S 1 2 3"));
        assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("no parentheses"));
    }
}
