package org.vfioorchestrator.profile;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of our plain YAML reader against SnakeYAML. Invariant: ours leaves the text to SnakeYAML
 * (null), or SnakeYAML reads it too, into the same tree with the same positions; never an exception,
 * never a hang.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../PlainYamlFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class PlainYamlFuzzTest {

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void readAgreesWithSnakeYamlOrLeavesIt(byte[] input) {
        PlainYamlTest.assertAgreesOrRefuses(new String(input, StandardCharsets.UTF_8));
    }
}
