package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.apply.RevertReport;
import org.vfioorchestrator.apply.Reverter;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.ProfileStore;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "revert", header = "Put back what apply or the hook changed, from the journal.", mixinStandardHelpOptions = true,
        description = {"Put back what 'apply' (or the hook) changed for a VM, from the journal's before-images, newest "
            + "first. Other VMs still running keep their isolation; the last VM out restores everything. "
            + "A value someone else changed since is left alone and reported (drift) unless --force."},
        footer = {"",
            "Exit codes: 0 restored (or nothing to do), 1 a restore failed, 3 drift left alone or a journal "
            + "from an earlier boot (not applied; the reboot already reset those settings)."})
final class RevertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(multiplicity = "1")
    Target target;

    static final class Target {
        @Parameters(paramLabel = "VM", description = "The VM to revert.")
        String vm;

        @Option(names = "--all", description = "Revert everything in the journal, for every VM.")
        boolean all;
    }

    @Option(names = "--force", description = "Also restore values someone else changed since we wrote them.")
    boolean force;

    @Option(names = "--verbose", description = "Print every restore as it is made.")
    boolean verbose;

    @Mixin
    HostOptions hostOptions;

    @Override
    public Integer call() {
        String vm = target.all ? null : ProfileStore.checkVmName(target.vm);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HostFs host = hostOptions.open();
        RevertReport r = new Reverter(new PlanService(host), line -> {
            if (verbose) {
                out.println("  " + line);
            }
        }).revert(vm, force);
        String name = vm == null ? "all VMs" : vm;
        if (!r.wasApplied()) {
            out.println(name + ": not applied, nothing to revert" + (r.stillRunning().isEmpty() ? ""
                    : " (applied now: " + String.join(", ", r.stillRunning()) + ")"));
            return 0;
        }
        out.println(name + ": restored " + r.restored() + (r.restored() == 1 ? " setting" : " settings") + (r.alreadyRight() > 0 ? ", "
                + r.alreadyRight() + " were already back" : "") + (r.stillRunning().isEmpty() ? ""
                : "; still isolated for " + String.join(", ", r.stillRunning())));
        r.gone().forEach(g -> out.println("gone since (a device unplugged?), nothing to restore: " + g));
        r.substituted().forEach(g -> out.println("note: " + g));
        r.drift().forEach(d -> err.println("revert: drift, left alone: " + d));
        r.failed().forEach(f -> err.println("revert: failed: " + f));
        r.refused().forEach(f -> err.println("revert: refused journal entry, not restored: " + f));
        if (!r.failed().isEmpty()) {
            err.println("revert: the journal keeps what failed; fix the cause and run 'vfio-orchestrator revert "
                    + (vm == null ? "--all" : vm) + "' again");
            return ExitCode.HOST_OR_DATA.code();
        }
        if (!r.refused().isEmpty()) {
            err.println("revert: the journal " + new JournalStore(host).journalPath() + " held entries this tool"
                    + " never writes or cannot read; they are dropped from it. If a file they name was changed, put it back"
                    + " by hand (a reboot resets every kernel setting)");
            return ExitCode.UNEXPECTED_STATE.code();
        }
        if (!r.drift().isEmpty()) {
            err.println("revert: someone changed these after us; run with --force to restore the values from before us");
            return ExitCode.UNEXPECTED_STATE.code();
        }
        return 0;
    }
}
