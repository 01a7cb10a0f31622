package org.vfioorchestrator.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.plan.DomainCheck;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.plan.PlanText;
import org.vfioorchestrator.profile.Profile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "plan", header = "Dry run: every change starting a VM would make, old and new values.", mixinStandardHelpOptions = true,
        description = {"Show every change starting the VM would make, with the value there now and the value it "
            + "would write, without touching anything (dry run). Runs without root on any readable tree."},
        footer = {"", "Example:", "  vfio-orchestrator plan examples/profiles/win11.yaml --host-root examples/hosts/gaming-rig"})
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "PROFILE", description = "The VM's profile (YAML); see profiles/README.md.")
    Path profile;

    @Mixin
    HostOptions hostOptions;

    @Option(names = "--domain", paramLabel = "FILE", description = "The VM's libvirt domain XML, checked against the profile.")
    Path domain;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PlanService service = new PlanService(hostOptions.open());
        Profile p = service.load(profile);
        if (domain != null) {
            DomainCheck.check(p, DomainXml.read(domain).facts());
        }
        Plan plan = service.plan(List.of(p));
        if (json) {
            spec.commandLine().getOut().println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(PlanText.toJson(plan)));
        } else {
            PlanText.print(plan, spec.commandLine().getOut());
            spec.commandLine().getOut().println("Dry run: nothing was changed.");
        }
        return 0;
    }
}
