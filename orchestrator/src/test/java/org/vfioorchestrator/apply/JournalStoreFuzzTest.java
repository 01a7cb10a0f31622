package org.vfioorchestrator.apply;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;

/**
 * Fuzz test of reading the journal, past its checksum (which the input gets right, as root could):
 * invariant, a {@link Journal} (whose entries passed their checks) or the journal refused with exit 3,
 * never another exception (a missing bootId was a NullPointerException), never a hang.
 *
 * <p>{@code mvn verify} runs it over the committed inputs in
 * {@code src/test/resources/.../JournalStoreFuzzTestInputs/METHOD/}: the journals version 2 wrote
 * (apply/journal-v2) and damaged ones; to fuzz, see RELIABILITY.md.
 */
class JournalStoreFuzzTest {
    private static final JournalStore STORE = new JournalStore(HostFs.open(Path.of("/nonexistent-fuzz-root")));

    @FuzzTest(maxDuration = "2m")
    @Timeout(10)
    void parseReturnsAJournalOrRefusesIt(byte[] input) {
        String body = new String(input, StandardCharsets.UTF_8);
        try {
            Journal j = STORE.parse("# vfio-orchestrator journal v2 crc32c=" + JournalStore.crc32c(body) + "\n" + body);
            j.bootId().length(); // no field of a journal read back is null
            j.entries().forEach(e -> e.toJson());
        } catch (OrchestratorException refused) {
            if (refused.exitCode() != ExitCode.UNEXPECTED_STATE) {
                throw refused;
            }
        }
    }
}
