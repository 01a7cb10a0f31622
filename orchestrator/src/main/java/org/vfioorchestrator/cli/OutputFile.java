package org.vfioorchestrator.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;

/** A file a command writes for the user ({@code --output}): never over an existing one unless {@code --force}. */
final class OutputFile {
    private OutputFile() {
    }

    /** Fails before any work when the file exists and may not be overwritten. */
    static void check(Path file, boolean force) {
        if (Files.exists(file) && !force) {
            throw OrchestratorException.data(file + ": exists; choose another --output or add --force");
        }
    }

    static void write(Path file, String content, boolean force) {
        check(file, force);
        try {
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw OrchestratorException.data(file + ": cannot write: " + e.getMessage());
        }
    }
}
