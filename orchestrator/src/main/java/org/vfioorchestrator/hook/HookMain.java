package org.vfioorchestrator.hook;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;

/**
 * The hook's entry point, {@code hook [--host-root DIR] VM OPERATION SUB-OPERATION [EXTRA]}
 * with the domain XML on stdin. libvirt waits for it on every VM start, so it loads only
 * what a hook call needs: no picocli (the CLI's parser), no libvirt-java, no plotting.
 */
public final class HookMain {
    private HookMain() {
    }

    /** Runs the hook and exits; nothing goes to stdout (libvirt reads it as XML for migrate and restore). */
    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.setOut(System.err);
        System.exit(run(err, System.in, Arrays.asList(args), HookLog.syslogFromShim(System.getenv(HookLog.SYSLOG_FD))));
    }

    /** A hook call without syslog (tests, and runs by hand); see {@link #run(PrintWriter, InputStream, List, OutputStream)}. */
    public static int run(PrintWriter err, InputStream stdin, List<String> args) {
        return run(err, stdin, args, null);
    }

    /**
     * Exit codes follow libvirt's rules (see {@link HookRunner}); a bug never aborts a stop. Log lines also
     * go to {@code syslog} unless it is null.
     */
    public static int run(PrintWriter err, InputStream stdin, List<String> args, OutputStream syslog) {
        Path root = Path.of("/");
        List<String> argv = args;
        if (args.size() >= 2 && args.get(0).equals("--host-root")) {
            root = Path.of(args.get(1));
            argv = args.subList(2, args.size());
        }
        boolean mayFail = argv.size() >= 3 && (argv.get(1).equals("prepare") || argv.get(1).equals("started"));
        try {
            HostFs host = HostFs.open(root);
            return new HookRunner(host, err, new DetachedMeasurementLauncher(host, CommandRunner.system()), syslog).run(argv, stdin);
        } catch (RuntimeException | Error e) {
            // Even an Error (out of memory, a broken jar) must not fail a reconnect: libvirt would kill the VM.
            err.println("vfio-orchestrator hook: internal error, please report it: " + e);
            e.printStackTrace(err);
            err.flush();
            return mayFail ? ExitCode.INTERNAL.code() : 0;
        }
    }
}
