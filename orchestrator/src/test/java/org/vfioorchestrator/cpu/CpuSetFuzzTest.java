package org.vfioorchestrator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the two kernel CPU-set notations. Invariant: a value or a
 * {@link CpuSetFormatException}, never another exception, never a hang; and a
 * value survives the trip through its canonical list and mask.
 *
 * <p>{@code mvn verify} runs them over the committed inputs in
 * {@code src/test/resources/.../CpuSetFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class CpuSetFuzzTest {

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseListReturnsASetOrRefusesIt(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        CpuSet set;
        try {
            set = CpuSet.parseList(text);
        } catch (CpuSetFormatException refused) {
            return;
        }
        assertEquals(set, CpuSet.parseList(set.toString()), "canonical list of " + text);
        assertEquals(set, CpuSet.parseMask(set.toMask()), "mask of " + text);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseMaskReturnsASetOrRefusesIt(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        CpuSet set;
        try {
            set = CpuSet.parseMask(text);
        } catch (CpuSetFormatException refused) {
            return;
        }
        assertEquals(set, CpuSet.parseList(set.toString()), "canonical list of " + text);
        assertEquals(set, CpuSet.parseMask(set.toMask()), "mask of " + text);
    }
}
