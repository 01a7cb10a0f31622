package org.vfioorchestrator.apply;

import java.util.List;

/**
 * What a revert did. {@code drift}: values someone else changed since we wrote
 * them, left alone (use --force); {@code failed}: restores that did not work
 * (and a journal that could not be rewritten). Both stay in the journal for
 * another try. {@code gone}: files that no longer exist, such as the IRQ of a
 * device unplugged meanwhile; nothing to restore there (exited threads are
 * normal at a stop and only counted in {@code alreadyRight}). {@code refused}:
 * journal entries that are not something this tool writes, or not readable
 * (see {@link JournalEntry}): never restored, and no longer in the journal. {@code substituted}: restored as
 * near as the kernel allows (a populated cgroup's cpuset.cpus given its parent's CPUs instead of ''), each
 * with what was written and why; restored as far as a user can tell, and counted in {@code restored}.
 */
public record RevertReport(String vm, boolean wasApplied, int restored, int alreadyRight, List<String> drift,
        List<String> failed, List<String> stillRunning, List<String> gone, List<String> refused, List<String> substituted) {

    public RevertReport(String vm, boolean wasApplied, int restored, int alreadyRight, List<String> drift,
            List<String> failed, List<String> stillRunning) {
        this(vm, wasApplied, restored, alreadyRight, drift, failed, stillRunning, List.of(), List.of(), List.of());
    }

    public boolean complete() {
        return drift.isEmpty() && failed.isEmpty() && refused.isEmpty();
    }
}
