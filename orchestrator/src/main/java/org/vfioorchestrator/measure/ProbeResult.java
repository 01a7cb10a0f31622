package org.vfioorchestrator.measure;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What a latency tool measured: on CPUs no VM was using (a probe), or inside a guest on its vCPUs.
 *
 * @param tool    {@code cyclictest} (timer wake-up latency), {@code oslat} or {@code java-spin}
 *                (busy-loop gaps: how long the CPU was taken away from a running thread)
 * @param cpus    the CPUs measured: the host's for a probe, the guest's own numbers inside a guest
 * @param command the command line that ran, for the report
 * @param policy  the scheduling policy of the measuring threads
 */
public record ProbeResult(String tool, CpuSet cpus, int seconds, String command, ProbePolicy policy, List<CpuLatency> perCpu) {
    public ProbeResult {
        perCpu = List.copyOf(perCpu);
    }

    /** What the numbers mean, for the report. */
    public String meaning() {
        return switch (tool) {
            case "cyclictest" -> "timer wake-up latency of a " + policy.label() + " thread";
            case "oslat" -> "longest gaps seen by a " + policy.label() + " busy loop (time the CPU was taken away)";
            default -> "gaps between System.nanoTime() reads in a pinned " + policy.label()
                    + " busy loop (time the CPU was taken away)";
        };
    }
}
