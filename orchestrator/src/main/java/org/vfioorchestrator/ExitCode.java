package org.vfioorchestrator;

/** The process exit codes, one meaning each (see README, "Exit codes"). */
public enum ExitCode {
    OK(0),
    /** A host or data error: bad profile, unreadable file, refused write. */
    HOST_OR_DATA(1),
    /** The command line is wrong. */
    USAGE(2),
    /** The saved state does not match the host: stale or drifted journal, VM already applied. */
    UNEXPECTED_STATE(3),
    /** A bug in this tool: the only case that prints a stack trace. */
    INTERNAL(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
