package org.vfioorchestrator.measure;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;
import org.vfioorchestrator.OrchestratorException;

/** Runs an external program from an argument array (never a shell string). Tests substitute it. */
public interface CommandRunner {

    record Result(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code argv}; a program that cannot be started is an {@link OrchestratorException}. */
    Result run(List<String> argv, Duration timeout);

    /** Commons Exec: arguments passed as they are (no quoting, no shell), output captured, killed at the timeout. */
    static CommandRunner commonsExec() {
        return (argv, timeout) -> {
            CommandLine cl = new CommandLine(argv.get(0));
            for (String a : argv.subList(1, argv.size())) {
                cl.addArgument(a, false);
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
        };
    }
}
