package org.vfioorchestrator.cli;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;

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

    /** {@code --color WHEN}. */
    enum Colour {
        AUTO, ALWAYS, NEVER;

        boolean enabled() {
            return switch (this) {
                case ALWAYS -> true;
                case NEVER -> false;
                case AUTO -> System.console() != null && System.getenv("NO_COLOR") == null;
            };
        }

        /** The name users type and see (picocli lists the choices with it). */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
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
