package org.vfioorchestrator.cli;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.vfioorchestrator.OrchestratorException;

/**
 * What the terminal can take: colour (only when asked, or when stdout is a terminal and
 * NO_COLOR is unset), and whether stderr is a terminal (progress bar or log lines).
 */
final class Terminal {
    private interface LibC extends Library {
        int isatty(int fd);
    }

    private Terminal() {
    }

    static boolean colour(String when) {
        return switch (when) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> System.console() != null && System.getenv("NO_COLOR") == null;
            default -> throw OrchestratorException.usage("--color " + when + ": use auto, always or never");
        };
    }

    /** isatty(2); without libc, whether there is a console at all. */
    static boolean stderrIsTerminal() {
        try {
            return Native.load("c", LibC.class).isatty(2) == 1;
        } catch (LinkageError | RuntimeException e) {
            return System.console() != null;
        }
    }
}
