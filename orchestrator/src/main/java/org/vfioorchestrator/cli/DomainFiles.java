package org.vfioorchestrator.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;

/** Reads a domain XML file named on the command line. */
final class DomainFiles {
    private static final long MAX_BYTES = 4L * 1024 * 1024;

    private DomainFiles() {
    }

    static Domain read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw OrchestratorException.data(file + ": larger than 4 MiB; is this a domain XML? (virsh dumpxml VM > FILE)");
            }
            return DomainXml.parse(Files.readString(file), file.toString());
        } catch (NoSuchFileException e) {
            throw OrchestratorException.data(file + ": no such file; save the domain with: virsh dumpxml VM > " + file);
        } catch (IOException e) {
            throw OrchestratorException.data(file + ": cannot read: " + e.getMessage());
        }
    }
}
