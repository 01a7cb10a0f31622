package org.vfioorchestrator.domain;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;
import org.vfioorchestrator.OrchestratorException;

/**
 * Fuzz test of the domain XML reader (what libvirt hands the hook on stdin).
 * Invariant: a {@link Domain} or an {@link OrchestratorException}, never another
 * exception (a StackOverflowError from deep nesting was one), never a hang.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../DomainXmlFuzzTestInputs/METHOD/}; to fuzz, see RELIABILITY.md.
 */
class DomainXmlFuzzTest {

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseReturnsADomainOrRefusesIt(byte[] input) {
        try {
            DomainXml.parse(new String(input, StandardCharsets.UTF_8), "fuzz.xml");
        } catch (OrchestratorException refused) {
            // the expected way to say no
        }
    }
}
