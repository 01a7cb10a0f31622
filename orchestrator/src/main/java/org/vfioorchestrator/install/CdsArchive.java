package org.vfioorchestrator.install;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.vfioorchestrator.install.Manifest.Action;
import org.vfioorchestrator.install.Manifest.Step;
import org.vfioorchestrator.process.CommandRunner;

/** The class-data-sharing archive install leaves beside the jar, for the shim's and the launcher's JVMs. */
final class CdsArchive {
    private CdsArchive() {
    }

    /** An archive works only with the jar it was trained with: a new one is due when the jar is not that one. */
    static boolean due(InstallFs fs, Manifest m, String archive, String jarSha) {
        Optional<Step> step = m.step(Action.ARCHIVE, archive);
        return step.isEmpty() || !fs.exists(archive) || !jarSha.equals(step.get().jarSha256());
    }

    /**
     * Writes the class-data-sharing archive the shim and launcher use (a hook call starts about a
     * third faster with it), by running the installed launcher's {@code cds-archive}: a training run
     * on the bundled example host, nothing of this host is touched. A failure is reported, not fatal:
     * the hook works without it.
     */
    static boolean write(InstallFs fs, Consumer<String> out, CommandRunner commands, String launcher, String archive) {
        out.accept("writing " + fs.show(archive) + ": a training run of the hook on the bundled example host, a few"
                + " seconds (this host is not touched)");
        CommandRunner.Result r = commands.run(List.of(launcher, "cds-archive"), Duration.ofMinutes(3));
        if (r.exitCode() != 0) {
            String why = r.stderr().strip().lines().reduce((a, b) -> b).orElse("exit code " + r.exitCode());
            out.accept("could not write the class-data-sharing archive " + fs.show(archive) + " (" + why + "); the hook"
                    + " works without it, only slower. Retry with: vfio-orchestrator cds-archive");
            return false;
        }
        out.accept("wrote " + fs.show(archive) + " (class-data sharing: the hook's JVM starts faster)");
        return true;
    }
}
