package org.vfioorchestrator.apply;

/**
 * One thing the kernel would not change, said once: a managed IRQ's affinity, a per-CPU kernel
 * thread's cgroup.
 *
 * @param path the file the write went to
 * @param what what it is, for people: {@code IRQ 31}, {@code pid 2}
 * @param why  why the kernel refused, with its errno
 */
public record Refusal(String path, String what, String why) {
}
