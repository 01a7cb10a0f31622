package org.vfioorchestrator.domain;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of our XML reader against the JDK's hardened DOM parser. Invariant: ours refuses the
 * document ({@link XmlParser.Malformed}, nothing else, never a hang), or the JDK accepts it too and
 * reads the same tree. Ours may refuse more (non-ASCII names, other encodings), never accept differently.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../XmlParserFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class XmlParserFuzzTest {

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseAgreesWithTheJdkOrRefuses(byte[] input) {
        XmlParserTest.assertAgreesOrRefuses(new String(input, StandardCharsets.UTF_8));
    }
}
