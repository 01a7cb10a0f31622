package org.vfioorchestrator.process;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;
import org.vfioorchestrator.OrchestratorException;

/** {@link CommandRunner} on this machine: Commons Exec, arguments passed as they are (no quoting, no shell). */
final class SystemCommandRunner implements CommandRunner {
    static final SystemCommandRunner INSTANCE = new SystemCommandRunner();

    private SystemCommandRunner() {
    }

    @Override
    public Result run(List<String> argv, Duration timeout) {
        CommandLine cl = new CommandLine(argv.get(0));
        for (int i = 1; i < argv.size(); i++) {
            cl.addArgument(argv.get(i), false);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        DefaultExecutor exec = DefaultExecutor.builder().get();
        exec.setStreamHandler(new PumpStreamHandler(out, err));
        exec.setWatchdog(ExecuteWatchdog.builder().setTimeout(timeout).get());
        exec.setExitValues(null); // every exit code is returned, not thrown
        int code;
        try {
            code = exec.execute(cl);
        } catch (ExecuteException e) {
            code = e.getExitValue();
        } catch (IOException e) {
            throw OrchestratorException.data(argv.get(0) + ": cannot run it: " + e.getMessage());
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Through the JDK's ProcessBuilder, not Commons Exec: Commons Exec always connects a child's output to
     * pipes this JVM reads until they close, which a job that outlives us would hold open.
     */
    @Override
    public void detach(List<String> argv, Path log) {
        List<String> cmd = new ArrayList<>(argv.size() + 2);
        cmd.add("setsid");
        cmd.add("-f");
        cmd.addAll(argv);
        File logFile = log.toFile();
        try {
            Process setsid = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile))
                    .redirectError(ProcessBuilder.Redirect.appendTo(logFile))
                    .start();
            setsid.waitFor(); // setsid -f returns at once, after forking the real process
        } catch (IOException e) {
            throw OrchestratorException.data(argv.get(0) + ": cannot start it in the background: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
