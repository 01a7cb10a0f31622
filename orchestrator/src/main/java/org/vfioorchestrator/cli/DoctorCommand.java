package org.vfioorchestrator.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfioorchestrator.doctor.Doctor;
import org.vfioorchestrator.doctor.DoctorInput;
import org.vfioorchestrator.doctor.DoctorReport;
import org.vfioorchestrator.doctor.Finding;
import org.vfioorchestrator.doctor.ProfileView;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "doctor", header = "Check a VM's setup for stutter sources, with the exact fixes.", mixinStandardHelpOptions = true,
        description = {"Checks a VM's setup for stutter sources: disk bus, cache and AIO mode, iothreads and their "
            + "polling, pins vs the profile, SMT/L3/NUMA placement, kernel parameters, irqbalance, cgroups. "
            + "Exit 0 when nothing is at warning or above, 1 otherwise."})
public final class DoctorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DomainSource source;

    @Option(names = "--profile", paramLabel = "FILE", description = "The VM's profile, to compare pins with.")
    Path profile;

    @Mixin
    HostOptions host;

    @Option(names = "--json", description = "Findings as JSON.")
    boolean json;

    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto",
            description = "${COMPLETION-CANDIDATES}: auto colours when stdout is a terminal and NO_COLOR is unset."
                    + " Default: ${DEFAULT-VALUE}")
    Terminal.Colour color;

    @Override
    public Integer call() {
        Domain domain = source.load();
        HostFs fs = host.open();
        Optional<Topology> topology = Optional.of(TopologyReader.read(fs)).filter(t -> !t.online().isEmpty());
        Optional<ProfileView> view = Optional.ofNullable(profile)
                .map(p -> ProfileView.of(new ProfileLoader(HostFacts.read(fs)).load(p), domain.tcg()));
        DoctorInput in = new DoctorInput(domain, view, fs, topology);
        List<Finding> findings = Doctor.examine(in);
        var out = spec.commandLine().getOut();
        if (json) {
            out.print(DoctorReport.json(domain.name(), domain.sourceName(), fs.root().toString(), findings));
        } else {
            String title = "doctor: " + domain.name() + " (" + domain.sourceName() + ")"
                    + (profile != null ? ", profile " + profile : "") + ", host " + fs.root();
            out.print(DoctorReport.text(title, findings, color.enabled()));
        }
        out.flush();
        return Doctor.exitCode(findings);
    }
}
