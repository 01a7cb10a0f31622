package org.vfioorchestrator.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;

/** The real runner, with small programs of the base system. */
class SystemCommandRunnerTest {
    final CommandRunner runner = CommandRunner.system();

    @TempDir
    Path dir;

    @Test
    void argumentsReachTheProgramAsTheyAreAndItsOutputAndExitCodeComeBack() {
        // printf gets each argument whole: no shell splits, expands or substitutes anything
        CommandRunner.Result r = runner.run(List.of("printf", "[%s]\\n", "two words", "$(reboot)", "'quoted'", "*", ""),
                Duration.ofSeconds(10));
        assertEquals(new CommandRunner.Result(0, "[two words]\n[$(reboot)]\n['quoted']\n[*]\n[]\n", ""), r);

        CommandRunner.Result failed = runner.run(List.of("ls", dir.resolve("missing").toString()), Duration.ofSeconds(10));
        assertEquals(2, failed.exitCode());
        assertEquals("", failed.stdout());
        assertTrue(failed.stderr().contains("No such file or directory"), failed.stderr());
    }

    @Test
    void aProgramThatCannotStartIsTheUsersErrorNamingIt() {
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> runner.run(List.of("/nonexistent/cyclictest", "--help"), Duration.ofSeconds(10)));
        assertTrue(e.getMessage().startsWith("/nonexistent/cyclictest: cannot run it: "), e.getMessage());
    }

    @Test
    void aProgramPastItsTimeoutIsKilled() {
        CommandRunner.Result r = runner.run(List.of("sleep", "60"), Duration.ofMillis(300));
        assertEquals(143, r.exitCode(), "SIGTERM from the watchdog");
    }

    /**
     * The job runs on after {@code detach} returns (it waits for a file the test makes only then: were
     * detach waiting for it, the test would time out), in a session of its own, stdin from /dev/null,
     * its output appended to the log.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aDetachedJobOutlivesTheCallInItsOwnSessionWithItsOutputInTheLog() throws Exception {
        Path log = dir.resolve("job.log");
        Path go = dir.resolve("go");
        Files.writeString(log, "earlier line\n");
        String script = "echo \"pid $$ sid $(cut -d' ' -f6 /proc/$$/stat) stdin $(readlink /proc/$$/fd/0)\";"
                + " while [ ! -e \"$1\" ]; do sleep 0.05; done; echo done";
        runner.detach(List.of("sh", "-c", script, "job", go.toString()), log);
        Files.writeString(go, "");
        String text = "";
        while (!text.endsWith("done\n")) {
            Thread.sleep(50);
            text = Files.readString(log);
        }
        String[] lines = text.split("\n");
        assertEquals(3, lines.length, text);
        assertEquals("earlier line", lines[0]);
        String[] w = lines[1].split(" ");
        assertEquals(List.of("pid", "sid", "stdin"), List.of(w[0], w[2], w[4]), lines[1]);
        assertEquals(w[1], w[3], "a session leader: its session id is its pid (" + lines[1] + ")");
        assertEquals("/dev/null", w[5]);
    }
}
