package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.vfioorchestrator.apply.ApplyReport;
import org.vfioorchestrator.apply.Applier;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.plan.PlanText;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "apply", header = "Isolate a VM's CPUs now, as the hook does at start (journaled).", mixinStandardHelpOptions = true,
        description = {"Isolate the VM's CPUs now, as the hook does when the VM starts: cpusets, IRQs, workqueues, "
            + "governor, C-states, and the VM's threads if it is running. Every before-image is journaled first "
            + "under /run/vfio-orchestrator; 'revert VM' puts it all back. Applying again changes only what drifted."},
        footer = {"", "See what it would do first: vfio-orchestrator plan PROFILE"})
final class ApplyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "VM", description = "The libvirt domain name.")
    String vm;

    @Mixin
    ProfileArgs profileArgs;

    @Mixin
    HostOptions hostOptions;

    @Option(names = "--verbose", description = "Print every change as it is made.")
    boolean verbose;

    @Override
    public Integer call() {
        ProfileStore.checkVmName(vm);
        PrintWriter out = spec.commandLine().getOut();
        PlanService service = new PlanService(hostOptions.open());
        Profile profile = service.load(profileArgs.locate(service.host(), vm, service.host().isLive())).requireVm(vm);
        ApplyReport report = new Applier(service, line -> {
            if (verbose) {
                out.println("  " + line);
            }
        }).apply(profile, true);
        if (report.archived() != null) {
            out.println("note: a journal from an earlier boot was moved aside to " + report.archived());
        }
        out.println(vm + ": " + (report.changed() == 0 ? "already applied, nothing to change" : "applied " + report.changed()
                + " changes") + "; host keeps CPUs " + report.plan().hostCpus() + ", vCPUs on " + report.plan().vmCpus());
        if (!report.refused().isEmpty()) {
            out.println(report.refusedSummary());
        }
        report.plan().warnings().forEach(w -> out.println("warning: " + w));
        out.println("undo with: vfio-orchestrator revert " + vm);
        return 0;
    }
}
