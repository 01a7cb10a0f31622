package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.UtcTime;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.libvirt.LibvirtClient;
import org.vfioorchestrator.measure.Durations;
import org.vfioorchestrator.measure.GuestMeasurement;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.measure.MeasurementService;
import org.vfioorchestrator.measure.ProbeTool;
import org.vfioorchestrator.measure.Progress;
import org.vfioorchestrator.measure.Ticker;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileStore;
import org.vfioorchestrator.tune.Candidate;
import org.vfioorchestrator.tune.Candidates;
import org.vfioorchestrator.tune.TuneResult;
import org.vfioorchestrator.tune.Tuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tune", header = "Try the placements the host allows on a running VM and keep the best as a profile.",
        mixinStandardHelpOptions = true,
        description = {"With the VM running under your usual load, tries each placement the host allows, one change"
            + " from its profile at a time (the emulator thread and iothreads on the host's CPUs, on vCPU 0's CPU or its"
            + " sibling, on a CPU of their own; C-states; a pass-through device's IRQs), each applied through the journal"
            + " and measured for --duration: inside the guest with cyclictest through its QEMU guest agent, else from the"
            + " host (the vCPU threads' run-queue wait). Then puts the VM back as it was and writes the candidate with the"
            + " lowest p99 as a profile, every candidate's figures in its header. Ctrl-C puts the VM back too; after a"
            + " crash, the VM's stop (or 'revert VM') restores the host from the journal."},
        footer = {"", "See the candidates first: vfio-orchestrator tune VM --dry-run"})
final class TuneCommand implements Callable<Integer> {
    /** How long a booting guest's agent may take before tune measures from the host instead. */
    static final Duration AGENT_WAIT = Duration.ofSeconds(20);

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "VM", description = "The running libvirt domain.")
    String vm;

    @Mixin
    ProfileArgs profileArgs;

    @Mixin
    HostOptions hostOptions;

    @Option(names = "--domain", paramLabel = "FILE", description = "The domain XML from this file instead of libvirt.")
    Path domainFile;

    @Option(names = "--connect", paramLabel = "URI", defaultValue = LibvirtClient.SYSTEM_URI,
            description = "libvirt URI for the domain XML and the guest agent. Default: ${DEFAULT-VALUE}")
    String uri;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "20s", converter = MeasureCommand.DurationConverter.class,
            description = "How long to measure each candidate. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--tool", paramLabel = "TOOL", defaultValue = "cyclictest",
            description = "cyclictest or oslat, inside the guest. Default: ${DEFAULT-VALUE}.")
    ProbeTool tool;

    @Option(names = "--host-side", description = "Measure from the host only, even when the guest agent answers.")
    boolean hostSide;

    @Option(names = "--output", paramLabel = "FILE", description = "Where to write the best profile. Default: VM.tuned.yaml"
            + " in the current directory (never overwritten unless --force); install it as " + ProfileStore.DIR + "/VM.yaml.")
    Path output;

    @Option(names = "--force", description = "Overwrite --output if it exists.")
    boolean force;

    @Option(names = "--dry-run", description = "List the candidates and change nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        ProfileStore.checkVmName(vm);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (tool == ProbeTool.JAVA || tool == ProbeTool.AUTO) {
            throw OrchestratorException.usage("--tool is cyclictest or oslat: they run inside the guest");
        }
        HostFs host = hostOptions.open();
        PlanService plans = new PlanService(host);
        Profile base = plans.load(profileArgs.locate(host, vm, host.isLive())).requireVm(vm);
        Domain domain = domainFile != null ? DomainXml.read(domainFile)
                : DomainXml.parse(new LibvirtClient(uri).domainXml(vm), uri + " domain " + vm);
        List<Candidate> candidates = Candidates.of(base, domain, plans.facts().topology());
        Path target = (output != null ? output : Path.of(vm + ".tuned.yaml")).toAbsolutePath().normalize();
        if (dryRun) {
            out.println(vm + ": " + candidates.size() + " candidates from " + base.source() + ", " + Durations.format(duration)
                    + " each (about " + Durations.format(duration.multipliedBy(candidates.size())) + "):");
            for (int i = 0; i < candidates.size(); i++) {
                out.println(String.format("  %d. %s", i + 1, candidates.get(i).name()));
            }
            Candidates.NOT_TRIED.forEach(n -> out.println("not tried: " + n));
            out.println("the best would be written to " + target);
            return 0;
        }
        OutputFile.check(target, force);
        GuestMeasurements guest = new GuestMeasurements(host, domain);
        boolean terminal = Terminal.stderrIsTerminal();
        int[] current = new int[1];
        Tuner tuner = new Tuner(plans, (name, d) -> {
            Progress bar = Progress.to(err, terminal, "tune: " + (current[0] + 1) + "/" + candidates.size(), 10);
            MeasurementService service = new MeasurementService(host, Ticker.system(), bar, CommandRunner.system());
            MeasurementReport r = service.measureVm(name, d, null, guest.next());
            guest.saw(r, err);
            return r;
        }, line -> { });
        TuneResult result = withCtrlC(err, () -> tuner.run(base, candidates, duration, (i, n, c) -> {
            current[0] = i;
            err.println("tune: " + (i + 1) + "/" + n + ": " + c.name());
            err.flush();
        }));
        out.println(vm + ": " + (result.inGuest() ? tool + " inside the guest, p99 by candidate"
                : "measured from the host (no guest figures), vCPU run-queue wait by candidate") + ":");
        result.evidence().forEach(out::println);
        String measuredWith = (result.inGuest() ? tool + " inside the guest"
                : "the vCPU threads' run-queue wait from the host") + ", " + Durations.format(duration) + " per candidate";
        String text = result.profileText(measuredWith, UtcTime.now()).orElseThrow(() -> OrchestratorException.data(
                "tune: no candidate could be measured on " + vm + "; nothing written"));
        // the profile belongs to the user on this machine, not to the host tree of --host-root
        OutputFile.write(target, text, force);
        out.println("wrote " + target + " (best: " + result.best().orElseThrow().candidate().name() + "); " + vm
                + " is back as it was. Use it: cp " + target + " " + ProfileStore.pathOf(vm));
        out.flush();
        return 0;
    }

    /**
     * Runs the tuner with Ctrl-C (SIGINT, SIGTERM) turned into an interruption: the JVM's shutdown waits
     * while the tuner puts the VM back on this thread, as it does after any other failure.
     */
    private static TuneResult withCtrlC(PrintWriter err, Callable<TuneResult> run) throws Exception {
        Thread worker = Thread.currentThread();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            err.println("\ntune: interrupted: putting the VM back as it was ...");
            err.flush();
            worker.interrupt();
            try {
                done.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run.call();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it only waited for us
            }
        }
    }

    /**
     * The guest measurement each candidate gets: the first waits for the agent up to {@link #AGENT_WAIT} and
     * goes host-side with a note if it does not answer; once the guest answered, every later candidate must
     * be measured there too (strict), so one run never compares the guest's figures with the host's.
     */
    private final class GuestMeasurements {
        private final HostFs host;
        private final Domain domain;
        private Boolean answered;

        GuestMeasurements(HostFs host, Domain domain) {
            this.host = host;
            this.domain = domain;
        }

        GuestMeasurement next() {
            if (hostSide || !host.isLive() || Boolean.FALSE.equals(answered)) {
                return null;
            }
            LibvirtClient libvirt = new LibvirtClient(uri);
            return new GuestMeasurement(vm, () -> domain, () -> libvirt.guestAgent(vm), new GuestMeasurement.Settings(tool,
                    GuestMeasurement.defaultPolicy(), answered == null ? AGENT_WAIT : Duration.ZERO), Ticker.system());
        }

        void saw(MeasurementReport r, PrintWriter err) {
            if (answered == null) {
                answered = r.guest() != null;
                if (!answered) {
                    r.vm().notes().stream().filter(n -> n.startsWith("no figures from inside the guest")).findFirst()
                            .ifPresent(n -> err.println("tune: " + n + "; measuring from the host"));
                }
            }
        }
    }
}
