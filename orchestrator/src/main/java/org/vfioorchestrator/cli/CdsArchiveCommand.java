package org.vfioorchestrator.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.vfioorchestrator.OrchestratorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The launcher script's own command: it starts the JVM that writes the archive (see {@code
 * vfio-orchestrator} at the top of the checkout), so only its usage lives here, for {@code --help},
 * the man page and the completion; the launcher asks this command for its help text.
 */
@Command(name = "cds-archive", header = "Write the class-data-sharing archive the hook starts faster with.",
        mixinStandardHelpOptions = true,
        description = {"Write the class-data-sharing archive (the classes a hook call loads, parsed and verified ahead) "
            + "that the launcher and the hook's shim use while it is newer than the jar: a hook call starts about a third "
            + "faster with it. It comes from a training run of the hook on the bundled example host; this host is not "
            + "touched. 'install' writes it; run this again after updating the JDK (the JVM refuses an archive from "
            + "another JDK with a warning on stderr and only loses the speed)."},
        footer = {"", "Exit codes: 0 written, 2 usage; any other: the training run or the check of the new archive failed,"
                + " and the archive there before stays."})
final class CdsArchiveCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", arity = "0..1", description = "Where to write it (default: vfio-orchestrator.jsa"
            + " beside the jar, where the launcher and the shim look).")
    Path file;

    @Override
    public Integer call() {
        // the launcher script answers this command itself: the archive is written by the JVM it starts
        throw OrchestratorException.usage("run it through the launcher, which starts the JVM that writes the archive:"
                + " vfio-orchestrator cds-archive" + (file == null ? "" : " " + file) + " (not java -jar)");
    }
}
