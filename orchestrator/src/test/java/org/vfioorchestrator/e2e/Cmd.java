package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a program from an argument array, stdin from /dev/null, output captured. */
final class Cmd {
    private Cmd() {
    }

    record Out(int code, String out, String err) {
        boolean ok() {
            return code == 0;
        }
    }

    static Out run(Duration timeout, String... argv) {
        return run(timeout, List.of(argv), null);
    }

    static Out run(Duration timeout, List<String> argv, Path cwd) {
        try {
            Path out = Files.createTempFile("e2e-out", ".txt");
            Path err = Files.createTempFile("e2e-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                if (cwd != null) {
                    pb.directory(cwd.toFile());
                }
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    return new Out(-1, Files.readString(out), "timed out after " + timeout.toSeconds() + " s: " + argv);
                }
                return new Out(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Out(-1, "", argv.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Out(-1, "", "interrupted");
        }
    }

    /** Starts a daemon that forks itself into the background ('-d'), holding none of our pipes. */
    static void daemon(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), argv[0] + " did not go into the background");
        assertEquals(0, p.exitValue(), argv[0] + " -d failed");
    }
}
