package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the journal's JSON reader against jackson-jr. Invariant: our reader refuses the
 * text (IllegalArgumentException, nothing else, never a hang), or jackson-jr reads the same value
 * from it. Ours may refuse more (fractions, duplicate keys, deep nesting), never accept differently.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../JournalJsonFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class JournalJsonFuzzTest {

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void readAgreesWithJacksonOrRefuses(byte[] input) throws IOException {
        String text = new String(input, StandardCharsets.UTF_8);
        Object ours;
        try {
            ours = JournalJson.read(text);
        } catch (IllegalArgumentException refused) {
            return;
        }
        assertEquals(JournalJsonTest.longs(JSON.std.anyFrom(text)), ours, text);
        assertEquals(ours, JournalJson.read(JournalJson.write(ours)), "written back: " + text);
    }
}
