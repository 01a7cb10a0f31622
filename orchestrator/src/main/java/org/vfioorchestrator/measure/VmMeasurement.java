package org.vfioorchestrator.measure;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What a running VM got from its CPUs over {@code seconds} one-second windows.
 *
 * @param cpus     the CPUs watched for other tasks and interrupts
 * @param cpusFrom where {@code cpus} came from ("--cpus" or "vCPU affinity")
 * @param notes    things the user should know about the numbers (VM stopped early, ...)
 */
public record VmMeasurement(String vm, int pid, CpuSet cpus, String cpusFrom, int seconds,
        List<Vcpu> vcpus, List<ForeignTask> foreignTasks, List<InterruptSource> interrupts, List<String> notes) {

    public VmMeasurement {
        vcpus = List.copyOf(vcpus);
        foreignTasks = List.copyOf(foreignTasks);
        interrupts = List.copyOf(interrupts);
        notes = List.copyOf(notes);
    }

    /**
     * One vCPU thread. Run-queue wait is the time the thread was runnable but another
     * task had its CPU, in µs per second of wall time (1,000,000 = waited the whole second).
     *
     * @param worstWindow     the 1-based second in which the wait was largest
     * @param waitUsPerSlice  average wait before each time on the CPU
     * @param waitUsPerSecond the wait in each window, in order (for the plot)
     */
    public record Vcpu(int index, int tid, String name, CpuSet allowed,
            double avgWaitUsPerSec, double worstWaitUsPerSec, int worstWindow, double waitUsPerSlice,
            double avgInvoluntaryPerSec, double maxInvoluntaryPerSec, double runPercent,
            List<Double> waitUsPerSecond) {
        public Vcpu {
            waitUsPerSecond = List.copyOf(waitUsPerSecond);
        }
    }

    /**
     * A task other than the vCPUs that ran on the VM's CPUs: its runtime advanced in
     * {@code windows} of the one-second windows while its last CPU ({@code stat} field 39)
     * was one of them. {@code runMs} is how much its runtime advanced in those windows (it
     * may include time on other CPUs within the same second).
     */
    public record ForeignTask(int pid, int tid, String comm, CpuSet seenOn, int windows, double runMs) {
    }

    /** Interrupts or softirqs from one source on one of the VM's CPUs. */
    public record InterruptSource(String key, String label, int cpu, long total, double avgPerSec, double maxPerSec) {
    }
}
