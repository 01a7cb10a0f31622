package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KernelTextTest {

    @Test
    void wordsAreWhatSplittingAtWhiteSpaceGives() {
        for (String text : List.of("performance powersave\n", "  a\tb \u000b c\f\rd  ", "one", "cpuset cpu io memory pids\n",
                "1 (bash) S 0 1 1 0 -1 4194560 700 0 0")) {
            assertEquals(List.of(text.strip().split("\\s+")), KernelText.words(text), text);
        }
        assertEquals(List.of(), KernelText.words(""));
        assertEquals(List.of(), KernelText.words(" \n\t"));
    }

    @Test
    void numberAfterTakesOnlyDigitsAfterThePrefix() {
        assertEquals(12, KernelText.numberAfter("cpu", "cpu12"));
        assertEquals(0, KernelText.numberAfter("index", "index0"));
        assertEquals(7, KernelText.numberAfter("", "007"));
        for (String name : List.of("cpu", "cpufreq", "cpu1a", "cpu-1", "cpu 1", "node1", "cpu1234567890", "cpu\u0661")) {
            assertEquals(-1, KernelText.numberAfter("cpu", name), name);
        }
    }

    @Test
    void statusFieldIsTheValueOfTheLineWithExactlyThatKey() {
        String status = "Name:\tCPU 0/KVM\nCpus_allowed:\t0f\nCpus_allowed_list:\t0-3\nMems_allowed_list:\t0\n";
        assertEquals(Optional.of("0-3"), KernelText.statusField(status, "Cpus_allowed_list"));
        assertEquals(Optional.of("0f"), KernelText.statusField(status, "Cpus_allowed"), "not the _list line after it");
        assertEquals(Optional.of("CPU 0/KVM"), KernelText.statusField(status, "Name"));
        assertEquals(Optional.empty(), KernelText.statusField(status, "Cpus"));
        assertEquals(Optional.empty(), KernelText.statusField(status, "voluntary_ctxt_switches"));
        assertEquals(Optional.empty(), KernelText.statusField("", "Name"));
    }
}
