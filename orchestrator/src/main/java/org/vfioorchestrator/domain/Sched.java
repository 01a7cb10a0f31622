package org.vfioorchestrator.domain;

import java.util.OptionalInt;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * One {@code <vcpusched>} or {@code <iothreadsched>}: which vCPUs / iothreads (ids, a
 * set of numbers like a CPU list) get which scheduler (batch, idle, fifo, rr) and priority.
 */
public record Sched(CpuSet ids, String scheduler, OptionalInt priority) {
    /** fifo and rr are real-time policies: they can starve everything else on their CPU. */
    public boolean realTime() {
        return scheduler.equals("fifo") || scheduler.equals("rr");
    }
}
