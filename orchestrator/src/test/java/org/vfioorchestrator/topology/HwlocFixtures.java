package org.vfioorchestrator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The real host captures in {@code orchestrator/src/test/fixtures/hwloc}
 * (hwloc's test data, copied with its licence from the project's shared
 * fixtures so that every build runs the tests that use them): unpacks one
 * into a test's temp folder.
 */
public final class HwlocFixtures {
    public static final String AMD_64 = "64amd64-4s2n4ca2co";
    public static final String HYBRID_20 = "20em64t-hybrid-1p6c2t+2ca4co1t";
    public static final String OFFLINE_16 = "16em64t-4s2c2t-offlines";

    private HwlocFixtures() {
    }

    /** The fixtures folder (part of the repository: a missing one fails the test rather than skipping it). */
    public static Path dir() {
        String repoRoot = System.getProperty("repo.root", "..");
        Path dir = Path.of(repoRoot, "orchestrator", "src", "test", "fixtures", "hwloc").toAbsolutePath().normalize();
        assertTrue(Files.isDirectory(dir), "hwloc fixtures not found at " + dir + " (repo.root=" + repoRoot + ")");
        return dir;
    }

    /** lstopo's output for the capture. */
    public static Path expected(String name) {
        return dir().resolve(name + ".expected-topology.txt");
    }

    /** Unpacks {@code name.tar.bz2} into {@code into} and returns the host root (the folder with sys/ and proc/). */
    public static Path unpack(String name, Path into) throws IOException, InterruptedException {
        Path archive = dir().resolve(name + ".tar.bz2");
        Process tar = new ProcessBuilder("tar", "-xjf", archive.toString(), "-C", into.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!tar.waitFor(60, TimeUnit.SECONDS)) {
            tar.destroyForcibly();
            throw new IOException("tar took longer than 60 s on " + archive);
        }
        assertEquals(0, tar.exitValue(), "tar -xjf " + archive + ": " + output);
        Path root = into.resolve(name);
        assertTrue(Files.isDirectory(root.resolve("sys")), archive + " did not unpack to " + root + "/sys");
        return root;
    }
}
