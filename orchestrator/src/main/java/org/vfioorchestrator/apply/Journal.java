package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the tool has changed on this host and for which VMs: the before-images,
 * in the order they were first touched, and each applied VM with its profile
 * (the text itself, so stopping one VM re-plans the others from exactly the
 * profiles they started with). Immutable; every change makes a new one.
 *
 * @param refused the entries of the file that were not valid (see {@link JournalEntry}), each as
 *                "entry N (...): why"; never restored, and dropped by the next save. A journal
 *                made from this one has none.
 */
public record Journal(String bootId, Map<String, AppliedVm> vms, List<JournalEntry> entries, List<String> refused) {
    /** 2: a CRC-32C checksum line and no profile hash (1, with SHA-256 for both, is still read). */
    public static final int VERSION = 2;

    public Journal {
        vms = Map.copyOf(vms);
        entries = List.copyOf(entries);
        refused = List.copyOf(refused);
    }

    public Journal(String bootId, Map<String, AppliedVm> vms, List<JournalEntry> entries) {
        this(bootId, vms, entries, List.of());
    }

    /**
     * @param profileSource where the profile was read from
     * @param profileText   its exact text, re-parsed when another VM stops
     * @param appliedAt     ISO-8601 time of the first apply
     */
    public record AppliedVm(String profileSource, String profileText, String appliedAt) {
    }

    public static Journal empty(String bootId) {
        return new Journal(bootId, Map.of(), List.of());
    }

    public Optional<JournalEntry> entry(String path) {
        for (JournalEntry e : entries) { // a loop: called once per change of a hook call
            if (e.path().equals(path)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    public Journal withVm(String vm, AppliedVm applied) {
        Map<String, AppliedVm> m = new LinkedHashMap<>(vms);
        m.put(vm, applied);
        return new Journal(bootId, m, entries);
    }

    public Journal withoutVm(String vm) {
        Map<String, AppliedVm> m = new LinkedHashMap<>(vms);
        m.remove(vm);
        return new Journal(bootId, m, entries);
    }

    /** Without the entries for these paths (one pass: a VM's stop may restore thousands). */
    public Journal without(Set<String> paths) {
        List<JournalEntry> kept = new ArrayList<>();
        for (JournalEntry e : entries) {
            if (!paths.contains(e.path())) {
                kept.add(e);
            }
        }
        return new Journal(bootId, vms, kept);
    }

    public boolean isEmpty() {
        return vms.isEmpty() && entries.isEmpty();
    }
}
