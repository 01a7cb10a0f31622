package org.vfioorchestrator.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostIoException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point. {@link #run} is what tests call: it never exits the JVM and maps
 * every failure to one exit code, in one place.
 */
@Command(name = "vfio-orchestrator",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "Gives a VM dedicated host CPUs while it runs and keeps host noise off them; "
            + "puts the host back exactly as it was when the VM stops.",
            "",
            "Dry run first: 'plan PROFILE' shows every change without touching anything."},
        subcommands = {
            TopologyCommand.class,
            PlanCommand.class,
            ApplyCommand.class,
            RevertCommand.class,
            DoctorCommand.class,
            SuggestCommand.class,
            CaptureCommand.class,
            MeasureCommand.class,
            TuneCommand.class,
            StatusCommand.class,
            XmlCommand.class,
            InstallCommand.class,
            UninstallCommand.class,
            CdsArchiveCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {"", "Exit codes: 0 ok, 1 host or data error, 2 usage, 3 unexpected state"
                + " (stale or drifted journal), 4 internal bug."})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    /** Every command but {@code hook}, which {@link Entry} sends to HookMain before picocli loads. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(run(out, err, args));
    }

    /** Runs one command line; output goes to {@code out}, messages to {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, commandLine, err));
        cl.setParameterExceptionHandler((ex, args2) -> {
            CommandLine bad = ex.getCommandLine();
            String message = ex.getMessage();
            // picocli opens the argument-group messages with a redundant "Error: "
            err.println(bad.getCommandName() + ": " + (message.startsWith("Error: ") ? message.substring(7) : message));
            err.println("Try '" + bad.getCommandSpec().qualifiedName() + " --help' for usage.");
            return ExitCode.USAGE.code();
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static int report(Exception ex, CommandLine commandLine, PrintWriter err) {
        String prefix = commandLine.getCommandSpec().qualifiedName() + ": ";
        if (ex instanceof OrchestratorException oe) {
            for (String problem : oe.problems()) {
                err.println(prefix + problem);
            }
            return oe.exitCode().code();
        }
        if (ex instanceof HostIoException hio) {
            err.println(prefix + hio.getMessage());
            return ExitCode.HOST_OR_DATA.code();
        }
        err.println(prefix + "internal error, please report it with the lines below: " + ex);
        ex.printStackTrace(err);
        return ExitCode.INTERNAL.code();
    }

    /** Version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"vfio-orchestrator " + (v == null ? "dev" : v)};
        }
    }
}
