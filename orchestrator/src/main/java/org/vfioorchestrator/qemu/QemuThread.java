package org.vfioorchestrator.qemu;

/**
 * One thread of a running QEMU. {@code startTime} (field 22 of
 * /proc/PID/task/TID/stat, in clock ticks since boot) guards against a
 * thread id that was reused after the thread exited.
 */
public record QemuThread(int tid, String name, ThreadRole role, int index, long startTime) {
}
