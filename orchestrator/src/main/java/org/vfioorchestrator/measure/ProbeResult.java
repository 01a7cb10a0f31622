package org.vfioorchestrator.measure;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What a latency probe measured on CPUs no VM was using.
 *
 * @param tool    {@code cyclictest} (timer wake-up latency), {@code oslat} or {@code java-spin}
 *                (busy-loop gaps: how long the CPU was taken away from a running thread)
 * @param command the command line that ran, for the report
 */
public record ProbeResult(String tool, CpuSet cpus, int seconds, String command, List<CpuLatency> perCpu) {
    public ProbeResult {
        perCpu = List.copyOf(perCpu);
    }

    /** What the numbers mean, for the report. */
    public String meaning() {
        return switch (tool) {
            case "cyclictest" -> "timer wake-up latency of a SCHED_FIFO thread";
            case "oslat" -> "longest gaps seen by a busy loop (time the CPU was taken away)";
            default -> "gaps between System.nanoTime() reads in a pinned busy loop (time the CPU was taken away)";
        };
    }
}
