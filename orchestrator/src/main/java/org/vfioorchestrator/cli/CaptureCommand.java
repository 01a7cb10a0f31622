package org.vfioorchestrator.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.vfioorchestrator.capture.HostCapture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "capture", header = "Copy the /sys and /proc files this tool reads into a folder.", mixinStandardHelpOptions = true,
        description = {"Copy the /sys and /proc files this tool reads into DIR, so you can attach your host to a bug "
            + "report or run 'plan --host-root DIR' elsewhere. Holds no process environments or command lines."},
        footer = {"", "Example:", "  sudo vfio-orchestrator capture --vm win11 /tmp/my-host && tar czf my-host.tgz -C /tmp my-host"})
final class CaptureCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "New or empty folder to write the capture into.")
    Path out;

    @Option(names = "--vm", paramLabel = "NAME", description = "Also capture this running VM's QEMU threads (repeatable).")
    List<String> vms = new ArrayList<>();

    @Mixin
    HostOptions hostOptions;

    @Override
    public Integer call() {
        int n = HostCapture.capture(hostOptions.open(), vms, out);
        spec.commandLine().getOut().println("captured " + n + " files into " + out
                + "; try: vfio-orchestrator topology --host-root " + out);
        return 0;
    }
}
