package org.vfioorchestrator.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The one way this tool starts another program: from an argument array, never a shell string.
 * {@link #system()} is the real one; tests substitute a double.
 */
public interface CommandRunner {

    record Result(int exitCode, String stdout, String stderr) {
    }

    /**
     * Runs {@code argv} to its end (killed at {@code timeout}) with its output captured; every exit code is
     * returned. A program that cannot be started is an {@link org.vfioorchestrator.OrchestratorException}.
     */
    Result run(List<String> argv, Duration timeout);

    /**
     * Starts {@code argv} in a session of its own ({@code setsid -f}), stdin from /dev/null, stdout and stderr
     * appended to {@code log}, and returns once it is detached: it holds none of this process's pipes, so
     * whoever waits for this process (libvirt, for the hook) does not wait for it.
     */
    void detach(List<String> argv, Path log);

    /** Runs programs on this machine. */
    static CommandRunner system() {
        return SystemCommandRunner.INSTANCE;
    }
}
