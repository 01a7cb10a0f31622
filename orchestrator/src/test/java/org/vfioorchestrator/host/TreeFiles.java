package org.vfioorchestrator.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Sets up and reads back a host tree's files directly, beside the simulated kernel under test. */
final class TreeFiles {
    private TreeFiles() {
    }

    /** Writes {@code content} as the kernel shows it: one trailing newline, none for an empty file. */
    static void write(Path root, String file, String content) throws IOException {
        Path p = root.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content.isEmpty() || content.endsWith("\n") ? content : content + "\n");
    }

    static String read(Path root, String file) {
        try {
            return Files.readString(root.resolve(file)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
