package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A journal being edited entry by entry (an entry added, replaced in its place, or removed) without
 * copying and scanning the whole list for each: a run on a big host touches thousands of IRQs, and
 * one copy per change made that quadratic.
 */
final class JournalEdit {
    private final Journal base;
    private final List<JournalEntry> entries;
    /** Where each path's first entry is, as Journal.entry finds it. */
    private final Map<String, Integer> firstIndex = new HashMap<>();

    JournalEdit(Journal base) {
        this.base = base;
        this.entries = new ArrayList<>(base.entries());
        index();
    }

    private void index() {
        firstIndex.clear();
        for (int i = 0; i < entries.size(); i++) {
            firstIndex.putIfAbsent(entries.get(i).path(), i);
        }
    }

    /** The entry for this path, or null. */
    JournalEntry entry(String path) {
        Integer i = firstIndex.get(path);
        return i == null ? null : entries.get(i);
    }

    /** Adds an entry, or replaces the one with the same path in its place. */
    void put(JournalEntry entry) {
        Integer i = firstIndex.get(entry.path());
        if (i != null) {
            entries.set(i, entry);
        } else {
            firstIndex.put(entry.path(), entries.size());
            entries.add(entry);
        }
    }

    /** Removes every entry for this path (rare: a change the kernel refused). */
    void remove(String path) {
        if (!firstIndex.containsKey(path)) {
            return;
        }
        List<JournalEntry> kept = new ArrayList<>();
        for (JournalEntry e : entries) {
            if (!e.path().equals(path)) {
                kept.add(e);
            }
        }
        entries.clear();
        entries.addAll(kept);
        index();
    }

    Journal journal() {
        return new Journal(base.bootId(), base.vms(), entries);
    }
}
