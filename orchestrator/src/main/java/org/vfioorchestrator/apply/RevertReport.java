package org.vfioorchestrator.apply;

import java.util.List;

/**
 * What a revert did. {@code drift}: values someone else changed since we wrote
 * them, left alone (use --force); {@code failed}: restores that did not work.
 * Both stay in the journal for another try.
 */
public record RevertReport(String vm, boolean wasApplied, int restored, int alreadyRight, List<String> drift,
        List<String> failed, List<String> stillRunning) {

    public boolean complete() {
        return drift.isEmpty() && failed.isEmpty();
    }
}
