package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.plan.ValueFormat;

/** JournalEdit edits as Journal.with and Journal.without did one change at a time, a path listed twice included. */
class JournalEditTest {
    /** An entry for /proc/irq/NAME ({@code path} is "/NAME"), a file the tool writes. */
    private static JournalEntry write(String path, String original, String expected) {
        return new JournalEntry.FileWritten(IRQS + path, original, expected, ValueFormat.TEXT, "vm", List.of());
    }

    private static final String IRQS = "/proc/irq";

    private static List<String> view(Journal j) {
        return j.entries().stream().map(e -> e.path().substring(IRQS.length()) + "=" + e.original() + ">" + e.expected()).toList();
    }

    @Test
    void putReplacesTheFirstEntryOfAPathInPlaceAndAddsNewPathsAtTheEnd() {
        Journal start = new Journal("boot", Map.of(), List.of(write("/a", "1", "2"), write("/b", "3", "4"),
                write("/a", "5", "6")));
        JournalEdit edit = new JournalEdit(start);
        assertEquals("1", edit.entry(IRQS + "/a").original(), "the first entry of a path, as Journal.entry finds it");
        edit.put(edit.entry(IRQS + "/a").withExpected("7"));
        edit.put(write("/c", "8", "9"));
        assertEquals(List.of("/a=1>7", "/b=3>4", "/a=5>6", "/c=8>9"), view(edit.journal()));
        assertEquals("boot", edit.journal().bootId());
    }

    @Test
    void removeTakesEveryEntryOfThePathAndLaterPutsStillFindTheirPlace() {
        JournalEdit edit = new JournalEdit(new Journal("boot", Map.of(), List.of(write("/a", "1", "2"),
                write("/b", "3", "4"), write("/a", "5", "6"), write("/c", "7", "8"))));
        edit.remove(IRQS + "/a");
        edit.remove(IRQS + "/missing");
        assertNull(edit.entry(IRQS + "/a"));
        edit.put(write("/c", "7", "0"));
        edit.put(write("/a", "1", "2"));
        assertEquals(List.of("/b=3>4", "/c=7>0", "/a=1>2"), view(edit.journal()));
    }

    @Test
    void withoutPathsDropsEveryEntryOfThoseAndKeepsTheOrderOfTheRest() {
        Journal j = new Journal("boot", Map.of(), List.of(write("/a", "1", "2"), write("/b", "3", "4"), write("/a", "5", "6"),
                write("/c", "7", "8")));
        assertEquals(List.of("/b=3>4", "/c=7>8"), view(j.without(Set.of(IRQS + "/a"))));
    }
}
