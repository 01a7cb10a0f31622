package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;

/** The sudo-like read below a root: what it reads, what it refuses before opening, and that nothing blocks it. */
class TrustedFileTest {
    @TempDir
    Path dir;
    Path root;
    final List<String> judged = new ArrayList<>();

    @BeforeEach
    void tree() throws Exception {
        root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("etc/app"));
        Files.writeString(root.resolve("etc/app/file"), "0123456789");
    }

    private Optional<byte[]> read(String path, int max) {
        return TrustedFile.read(root, path, max, (shown, facts) -> {
            judged.add(root.relativize(shown) + (facts.regular() ? " regular" : " not regular"));
            if (!facts.regular()) {
                throw OrchestratorException.data(shown + ": not a regular file");
            }
        });
    }

    @Test
    void readsTheFileAfterJudgingItAndAtMostOneByteMoreThanAsked() {
        assertArrayEquals("0123456789".getBytes(StandardCharsets.UTF_8), read("/etc/app/file", 100).orElseThrow());
        assertEquals(List.of("etc/app/file regular"), judged);
        assertEquals(5, read("/etc/app/file", 4).orElseThrow().length, "the caller sees that it is too large");
    }

    @Test
    void nothingWhenTheFileOrADirectoryOnTheWayIsMissing() {
        assertTrue(read("/etc/app/none", 100).isEmpty());
        assertTrue(read("/etc/none/file", 100).isEmpty());
        assertEquals(List.of(), judged, "no file to judge");
    }

    @Test
    void aFifoIsRefusedBeforeAnythingOpensIt() throws Exception {
        mkfifo(root.resolve("etc/app/fifo"));
        Files.move(root.resolve("etc/app"), root.resolve("etc/app-aside"));
        mkfifo(root.resolve("etc/app"));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            OrchestratorException e = assertThrows(OrchestratorException.class, () -> read("/etc/app/file", 100));
            assertEquals(root.resolve("etc/app") + " is not a directory, on the way to " + root.resolve("etc/app/file")
                    + "; remove it", e.getMessage());
        });
        Files.delete(root.resolve("etc/app"));
        Files.move(root.resolve("etc/app-aside"), root.resolve("etc/app"));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            OrchestratorException e = assertThrows(OrchestratorException.class, () -> read("/etc/app/fifo", 100));
            assertEquals(root.resolve("etc/app/fifo") + ": not a regular file", e.getMessage());
        });
    }

    @Test
    void onlyPlainAbsolutePathsAreTaken() {
        for (String bad : List.of("etc/app/file", "/etc/../etc/app/file", "/etc/./app/file", "/")) {
            assertThrows(IllegalArgumentException.class, () -> read(bad, 100), bad);
        }
    }

    private static void mkfifo(Path p) throws Exception {
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).start().waitFor(), "mkfifo " + p);
    }
}
