package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.install.Uninstaller;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "uninstall", header = "Undo what install did.", mixinStandardHelpOptions = true,
        description = {"Undo what 'install' did, as /etc/vfio-orchestrator/install.manifest records it: remove the files "
            + "it wrote (a file changed since is kept and named), move a hooks/qemu it moved aside back, remove the "
            + "directories it created when empty. Your profiles stay unless --purge. Refuses while the journal says "
            + "VMs are isolated (without the hook nothing would put the host back when they stop) unless --force."},
        footer = {"", "Exit codes: 0 done (or nothing installed), 1 something was kept (named above), 3 VMs are isolated."})
final class UninstallCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--prefix", paramLabel = "DIR", description = "Checked against the manifest; not needed.")
    String prefix;

    @Option(names = "--libvirt-hooks", paramLabel = "DIR", description = "Checked against the manifest; not needed.")
    String hooks;

    @Option(names = "--package", paramLabel = "NAME", description = "For a distribution package's prerm: undo the"
            + " install the package NAME's postinst made ('install --package NAME'), and nothing else.")
    String packageName;

    @Option(names = "--purge", description = "Also remove the profiles in /etc/vfio-orchestrator/profiles.")
    boolean purge;

    @Option(names = "--force", description = "Uninstall even while VMs are isolated.")
    boolean force;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/", description = "Uninstall from this tree instead of /.")
    Path root;

    @Option(names = "--dry-run", description = "Print what would be done; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Uninstaller.Result r = new Uninstaller(Roots.check(root), out::println).uninstall(new Uninstaller.Request(
                Optional.ofNullable(prefix), Optional.ofNullable(hooks), Optional.ofNullable(packageName), purge, force, dryRun));
        return r.leftAlone().isEmpty() ? 0 : ExitCode.HOST_OR_DATA.code();
    }
}
