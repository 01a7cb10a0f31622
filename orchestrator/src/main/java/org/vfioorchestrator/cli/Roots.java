package org.vfioorchestrator.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;

/** {@code --root DIR} of install/uninstall: an existing directory. */
final class Roots {
    private Roots() {
    }

    static Path check(Path root) {
        if (!Files.isDirectory(root)) {
            throw OrchestratorException.usage("--root " + root + ": not a directory; create it first");
        }
        return root;
    }
}
