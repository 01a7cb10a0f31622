package org.vfioorchestrator.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import picocli.CommandLine.Option;

/** {@code --host-root}: which host to look at, the running one or a captured tree. */
public final class HostOptions {
    @Option(names = "--host-root", paramLabel = "DIR", defaultValue = "/",
            description = "Host tree to read instead of the running host (a 'capture' or examples/hosts/*). Default: ${DEFAULT-VALUE}")
    Path hostRoot;

    public HostFs open() {
        if (!Files.isDirectory(hostRoot)) {
            throw OrchestratorException.data("--host-root " + hostRoot + ": not a directory; give the folder that holds sys/ and proc/");
        }
        if (!Files.isDirectory(hostRoot.resolve("sys/devices/system/cpu"))) {
            throw OrchestratorException.data("--host-root " + hostRoot + ": no sys/devices/system/cpu in it; is this a host capture?");
        }
        return HostFs.open(hostRoot);
    }
}
