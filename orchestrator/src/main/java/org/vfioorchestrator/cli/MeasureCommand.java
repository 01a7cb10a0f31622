package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.measure.Comparison;
import org.vfioorchestrator.measure.Durations;
import org.vfioorchestrator.measure.GuestMeasurement;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.measure.MeasurementService;
import org.vfioorchestrator.measure.ProbePolicy;
import org.vfioorchestrator.measure.ProbeTool;
import org.vfioorchestrator.measure.Progress;
import org.vfioorchestrator.measure.ReportJson;
import org.vfioorchestrator.measure.ReportPlot;
import org.vfioorchestrator.measure.ReportStore;
import org.vfioorchestrator.measure.TextReport;
import org.vfioorchestrator.measure.Ticker;
import org.vfioorchestrator.libvirt.LibvirtClient;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code measure VM} and {@code measure --probe CPUS}: thin, the work is in {@link MeasurementService}. */
@Command(name = "measure", header = "Measure the latency a running VM (or a set of CPUs) really gets.",
        mixinStandardHelpOptions = true,
        description = {
            "Measures the latency a running VM really gets: each vCPU thread's run-queue wait (worst 1 s window), "
            + "involuntary context switches, other tasks that ran on the VM's CPUs, and the interrupts and softirqs "
            + "that hit them, by source. With --probe, measures free CPUs with cyclictest (or a built-in busy loop), "
            + "its threads SCHED_OTHER as a vCPU's are, unless --policy or the VM's <vcpusched> says otherwise. "
            + "Reports are kept in /var/lib/vfio-orchestrator/reports/VM/ as .json, .txt and .png."},
        sortOptions = false)
public final class MeasureCommand implements Callable<Integer> {
    @Mixin
    HostOptions hostOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A VM or a probe, never both: picocli refuses the mix and prints the two forms in the usage. */
    @ArgGroup(exclusive = true, multiplicity = "1")
    Subject subject;

    static final class Subject {
        @ArgGroup(exclusive = false, heading = "%nMeasure a running VM:%n", order = 1)
        VmOptions vm;

        @ArgGroup(exclusive = false, heading = "%nProbe free CPUs:%n", order = 2)
        ProbeOptions probe;
    }

    /** What only goes with a VM. */
    static final class VmOptions {
        @Parameters(index = "0", paramLabel = "VM", description = "Name of the running VM (its libvirt name).")
        String name;

        @Option(names = "--cpus", paramLabel = "CPUS", converter = CpuSetConverter.class,
                description = "Watch these CPUs for other tasks and interrupts (default: where the vCPU threads may run).")
        CpuSet cpus;

        @Option(names = "--in-guest", description = "Also run cyclictest (or --tool oslat) inside the guest, through"
                + " its QEMU guest agent, and report what the guest sees beside the host-side figures. Needs a Linux"
                + " guest with qemu-guest-agent and rt-tests, and root (a read-write libvirt connection).")
        boolean inGuest;

        @Option(names = "--agent-wait", paramLabel = "TIME", converter = DurationConverter.class,
                description = "With --in-guest: wait up to TIME for the guest agent of a VM that is still booting;"
                        + " if the guest's figures cannot be had by then, report the host-side ones with a note saying"
                        + " why (the measurement after start does this).")
        Duration agentWait;
    }

    /** What only goes with a probe. */
    static final class ProbeOptions {
        @Option(names = "--probe", paramLabel = "CPUS", required = true, converter = CpuSetConverter.class,
                description = "Probe these free CPUs (e.g. 2-3) instead of sampling a VM.")
        CpuSet cpus;

        @ArgGroup(exclusive = true)
        PolicySource policyFrom;
    }

    /** The VM whose vCPU policy ({@code <vcpusched>}) the probe takes when --policy is not given. */
    static final class PolicySource {
        @Option(names = "--for", paramLabel = "VM", description = "Probe as VM's vCPU threads run: their <vcpusched>"
                + " policy (read from libvirt, read-only), else SCHED_OTHER.")
        String vm;

        @Option(names = "--domain", paramLabel = "FILE", description = "The same from a domain XML file.")
        Path domainFile;
    }

    @Option(names = "--tool", paramLabel = "TOOL", defaultValue = "auto",
            description = "${COMPLETION-CANDIDATES}: what measures the latency, on the probed CPUs or inside the guest"
                    + " (--in-guest; cyclictest or oslat). auto is cyclictest, on the host if installed, else java (a"
                    + " built-in busy loop). Default: ${DEFAULT-VALUE}.")
    ProbeTool tool;

    @Option(names = "--policy", paramLabel = "POLICY",
            description = "${COMPLETION-CANDIDATES}: the scheduling policy of the tool's threads (fifo: priority 95)."
                    + " Default for a probe: the policy of the VM's vCPU threads (--for, --domain), else other: a vCPU"
                    + " thread without <vcpusched> is SCHED_OTHER, and a SCHED_FIFO probe preempts what it would wait"
                    + " for. Default inside a guest: fifo, as cyclictest is usually run.")
    ProbePolicy.Kind policy;

    @Option(names = "--connect", paramLabel = "URI", defaultValue = LibvirtClient.SYSTEM_URI,
            description = "libvirt URI for --in-guest and --for. Default: ${DEFAULT-VALUE}")
    String uri;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "30s", converter = DurationConverter.class,
            description = "How long to measure: 30s, 2m, 1h. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--json", description = "Print the report as JSON instead of text.")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE", description = "Also write the PNG plot to FILE.")
    Path plot;

    @Option(names = "--compare", description = "Say which metrics got worse since the previous report.")
    boolean compare;

    @Option(names = "--no-save", description = "Do not keep the report under /var/lib/vfio-orchestrator/reports.")
    boolean noSave;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HostFs host = hostOptions.open();
        int seconds = Durations.seconds(duration);
        VmOptions vm = subject.vm;
        ProbeOptions probe = subject.probe;
        Progress progress = Progress.to(err, Terminal.stderrIsTerminal(),
                "measure: sampling " + (vm != null ? vm.name : "CPUs " + probe.cpus), 5);
        MeasurementService service = new MeasurementService(host, Ticker.system(), progress,
                org.vfioorchestrator.process.CommandRunner.system());
        MeasurementReport report;
        if (vm != null) {
            GuestMeasurement guest = vm.inGuest ? inGuest(vm, host) : null;
            if (guest == null && (spec.commandLine().getParseResult().hasMatchedOption("--tool") || policy != null
                    || vm.agentWait != null)) {
                throw OrchestratorException.usage("--tool, --policy and --agent-wait go with --in-guest or --probe: 'measure"
                        + " VM' alone samples the VM's threads from the host and runs no tool");
            }
            if (guest != null) {
                err.println("measure: running " + (tool == ProbeTool.OSLAT ? "oslat" : "cyclictest") + " inside " + vm.name
                        + "'s guest and sampling it from the host for " + Durations.format(duration)
                        + (vm.agentWait == null ? "" : ", once its agent answers (up to " + Durations.format(vm.agentWait) + ")")
                        + " ...");
                err.flush();
            }
            report = service.measureVm(vm.name, duration, vm.cpus, guest);
        } else {
            service.checkProbe(probe.cpus);
            ProbePolicy chosen = probePolicy(probe);
            err.println("measure: probing CPUs " + probe.cpus + " for " + Durations.format(duration) + " as "
                    + chosen.label() + " ...");
            err.flush();
            report = service.probe(probe.cpus, duration, tool, chosen);
        }
        Optional<Comparison> comparison = compare ? service.compareWithPrevious(report) : Optional.empty();
        out.print(json ? ReportJson.write(report) : TextReport.render(report));
        if (compare) {
            if (comparison.isEmpty()) {
                err.println("measure: no earlier report of " + report.subject() + " to compare with; this one is the baseline");
            } else {
                PrintWriter where = json ? err : out;
                if (!json) {
                    out.println();
                }
                comparison.get().lines().forEach(where::println);
            }
        }
        if (plot != null) {
            byte[] png = ReportPlot.render(report).orElseThrow(() -> OrchestratorException.data(
                    "--plot " + plot + ": nothing to plot (no complete one-second window)"));
            Path file = plot.toAbsolutePath().normalize();
            // the plot file belongs to the user on this machine, not to the host tree of --host-root
            HostFs.open(Path.of("/")).replaceAtomically(file.toString(), png);
        }
        if (!noSave) {
            try {
                ReportStore.StoredReport stored = service.save(report);
                err.println("measure: report kept in " + host.resolve(stored.json()).getParent() + "/" + stored.stamp() + ".{json,txt"
                        + (stored.png().isPresent() ? ",png" : "") + "}");
            } catch (HostIoException e) {
                err.println("measure: could not keep the report: " + e.getMessage() + " (run as root, or pass --no-save)");
            }
        }
        out.flush();
        err.flush();
        return 0;
    }

    /** The guest measurement of --in-guest, through libvirt at --connect. */
    private GuestMeasurement inGuest(VmOptions vm, HostFs host) {
        if (!host.isLive()) {
            throw OrchestratorException.usage("--in-guest asks the VM's guest agent through libvirt; a VM of the tree at "
                    + host.root() + " has no guest to ask (drop --host-root)");
        }
        if (tool == ProbeTool.JAVA) {
            throw OrchestratorException.usage("--tool java is the host's built-in busy loop; inside a guest use cyclictest"
                    + " or oslat");
        }
        LibvirtClient libvirt = new LibvirtClient(uri);
        GuestMeasurement.Settings settings = new GuestMeasurement.Settings(tool,
                policy != null ? ProbePolicy.given(policy) : GuestMeasurement.defaultPolicy(),
                vm.agentWait == null ? Duration.ZERO : vm.agentWait);
        return new GuestMeasurement(vm.name, () -> DomainXml.parse(libvirt.domainXml(vm.name), uri + " domain " + vm.name),
                () -> libvirt.guestAgent(vm.name), settings, Ticker.system());
    }

    /** --policy, else the policy of the VM named with --for or --domain, else SCHED_OTHER (what a vCPU thread is). */
    private ProbePolicy probePolicy(ProbeOptions probe) {
        if (policy != null) {
            return ProbePolicy.given(policy);
        }
        if (probe.policyFrom == null) {
            return ProbePolicy.other("the default: a vCPU thread without <vcpusched> runs SCHED_OTHER; --for VM takes a VM's");
        }
        Domain domain = probe.policyFrom.vm != null
                ? DomainXml.parse(new LibvirtClient(uri).domainXml(probe.policyFrom.vm), uri + " domain " + probe.policyFrom.vm)
                : DomainXml.read(probe.policyFrom.domainFile);
        return ProbePolicy.ofVcpus(domain);
    }

    /** {@code 30s}, {@code 2m}: a bad value is a usage error (exit 2). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** A CPU list such as {@code 2-5,8}. */
    static final class CpuSetConverter implements CommandLine.ITypeConverter<CpuSet> {
        @Override
        public CpuSet convert(String value) {
            try {
                return CpuSet.parseList(value);
            } catch (CpuSetFormatException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
