package org.vfioorchestrator.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.status.Status;
import org.vfioorchestrator.status.StatusService;
import org.vfioorchestrator.status.StatusText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "status", header = "What is applied now: VMs, drift, threads vs profile, reports.", mixinStandardHelpOptions = true,
        description = {"What is applied now, from the journal: each isolated VM, since when, its profile and how many "
            + "before-images were saved; any drift (a value someone changed after we wrote it); a journal from an "
            + "earlier boot. For a running VM, where each vCPU, emulator and iothread thread runs now (from /proc) "
            + "against where its profile wants it, and its latest measurement reports. Reads only; asks no libvirt."},
        footer = {"", "Exit codes: 0 all as applied, 1 host error, 3 drift, threads off their pins, or a stale or unreadable journal."})
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "VM", arity = "0..1", description = "Only this VM (default: every isolated or profiled running VM).")
    String vm;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    HostOptions hostOptions;

    @Override
    public Integer call() throws IOException {
        Status s = new StatusService(hostOptions.open()).read(vm);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(StatusText.toJson(s)));
        } else {
            StatusText.print(s, Instant.now(), out);
        }
        return s.needsAttention() ? ExitCode.UNEXPECTED_STATE.code() : 0;
    }
}
