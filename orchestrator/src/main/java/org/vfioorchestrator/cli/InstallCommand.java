package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfioorchestrator.install.Installer;
import org.vfioorchestrator.install.LibvirtVersion;
import org.vfioorchestrator.process.CommandRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "install", header = "Install the program and its libvirt qemu hook.", mixinStandardHelpOptions = true,
        description = {"Install this program and its libvirt qemu hook: the jar to PREFIX/lib/vfio-orchestrator/, the "
            + "launcher to PREFIX/bin/, man pages to PREFIX/share/man/man1/, the bash completion to "
            + "PREFIX/share/bash-completion/completions/, the hook shim to HOOKS/qemu.d/vfio-orchestrator (libvirt 6.5 and later; an "
            + "existing HOOKS/qemu keeps running) or else HOOKS/qemu (a foreign one moves to qemu.orig and runs first), "
            + "and /etc/vfio-orchestrator/profiles/ with the profile template as README. Every step is recorded in "
            + "/etc/vfio-orchestrator/install.manifest; 'uninstall' undoes exactly those. Installing again updates."},
        footer = {"", "Then write a profile per VM: vfio-orchestrator suggest VM --output /etc/vfio-orchestrator/profiles/VM.yaml"})
final class InstallCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--prefix", paramLabel = "DIR", defaultValue = Installer.DEFAULT_PREFIX,
            description = "Where the program goes (lib/, bin/, share/). Default: ${DEFAULT-VALUE}")
    String prefix;

    @Option(names = "--libvirt-hooks", paramLabel = "DIR", defaultValue = Installer.DEFAULT_HOOKS,
            description = "libvirt's hook directory. Default: ${DEFAULT-VALUE}")
    String hooks;

    @Option(names = "--libvirt-version", paramLabel = "X.Y.Z",
            description = "The libvirt version, instead of asking 'libvirtd --version' (or virtqemud).")
    String libvirtVersion;

    @Option(names = "--jar", paramLabel = "FILE", description = "The jar to install. Default: the one running.")
    Path jar;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "Install into this tree instead of / (paths inside the files stay as on the real host).")
    Path root;

    @Option(names = "--package", paramLabel = "NAME", description = "For a distribution package's postinst: records"
            + " that the package NAME made this install, so only its removal ('uninstall --package NAME' in its prerm)"
            + " undoes it. Files already in place with the content install would write (the package's) stay the package's.")
    String packageName;

    @Option(names = "--dry-run", description = "Print what would be done; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Optional<LibvirtVersion> version = libvirtVersion != null ? Optional.of(LibvirtVersion.parse(libvirtVersion))
                : LibvirtVersion.detect(CommandRunner.system());
        new Installer(Roots.check(root), out::println, CommandRunner.system())
                .install(new Installer.Request(prefix, hooks, version, Optional.ofNullable(jar), Optional.ofNullable(packageName),
                        dryRun));
        return 0;
    }
}
