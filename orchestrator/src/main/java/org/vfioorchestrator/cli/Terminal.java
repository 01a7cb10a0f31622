package org.vfioorchestrator.cli;

import org.vfioorchestrator.OrchestratorException;

/** Whether to colour output: only when asked, or when stdout is a terminal and NO_COLOR is unset. */
final class Terminal {
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
}
