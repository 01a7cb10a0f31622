package org.vfioorchestrator;

import java.util.List;

/**
 * A failure the user can act on. Its message is printed as is (one line per
 * problem, naming the file, key or CPU and what to do); it never carries a stack
 * trace to the user. The exit code says which kind of failure it is.
 */
public class OrchestratorException extends RuntimeException {
    private final ExitCode exitCode;
    private final List<String> problems;

    public OrchestratorException(ExitCode exitCode, String message) {
        this(exitCode, List.of(message));
    }

    public OrchestratorException(ExitCode exitCode, List<String> problems) {
        super(String.join("\n", problems));
        this.exitCode = exitCode;
        this.problems = List.copyOf(problems);
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** One entry per problem; several problems are reported together. */
    public List<String> problems() {
        return problems;
    }

    public static OrchestratorException data(String message) {
        return new OrchestratorException(ExitCode.HOST_OR_DATA, message);
    }

    public static OrchestratorException state(String message) {
        return new OrchestratorException(ExitCode.UNEXPECTED_STATE, message);
    }

    public static OrchestratorException usage(String message) {
        return new OrchestratorException(ExitCode.USAGE, message);
    }
}
