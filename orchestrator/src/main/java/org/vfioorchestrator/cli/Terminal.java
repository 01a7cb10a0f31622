package org.vfioorchestrator.cli;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** Whether stderr is a terminal (isatty(2)), to choose between a progress bar and log lines. */
final class Terminal {
    private interface LibC extends Library {
        int isatty(int fd);
    }

    private Terminal() {
    }

    static boolean stderrIsTerminal() {
        try {
            return Native.load("c", LibC.class).isatty(2) == 1;
        } catch (LinkageError | RuntimeException e) {
            return System.console() != null;
        }
    }
}
