package org.vfioorchestrator.hook;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;
import org.vfioorchestrator.UtcTime;
import org.vfioorchestrator.host.HostFs;

/**
 * One line per action, to {@code /var/log/vfio-orchestrator/hook.log} and,
 * where a syslog socket exists, to syslog/the journal (through {@code logger},
 * once per hook call). Logging never fails the hook.
 */
final class HookLog implements Consumer<String> {
    static final String FILE = "/var/log/vfio-orchestrator/hook.log";

    private final HostFs host;
    private final String prefix;
    private final List<String> lines = new ArrayList<>();
    private OutputStream file;
    private boolean fileFailed;

    HookLog(HostFs host, String vm, String operation) {
        this.host = host;
        this.prefix = vm + " " + operation + ": ";
    }

    @Override
    public void accept(String line) {
        String full = prefix + line.replace('\n', ' ');
        lines.add(full);
        if (fileFailed) {
            return;
        }
        try {
            if (file == null) {
                file = host.appendStream(FILE); // opened once per call; each line is written at once
            }
            // UTC, as syslog and the journal show it in local time anyway; a local offset would load the time zone
            // database on every hook call
            file.write((UtcTime.now() + " " + full + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException | IOException e) {
            fileFailed = true; // a full or read-only /var must not stop a VM from starting
        }
    }

    /** Closes the log file and sends the collected lines to syslog in one go. */
    void finish() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // every line was written when it came
            }
        }
        flushToSyslog();
    }

    private void flushToSyslog() {
        if (lines.isEmpty() || !host.isLive() || !host.exists("/dev/log")) {
            return;
        }
        try {
            CommandLine cmd = new CommandLine("logger");
            cmd.addArgument("-t", false);
            cmd.addArgument("vfio-orchestrator", false);
            DefaultExecutor exec = DefaultExecutor.builder().get();
            exec.setWatchdog(ExecuteWatchdog.builder().setTimeout(java.time.Duration.ofSeconds(2)).get());
            exec.setStreamHandler(new PumpStreamHandler(null, null,
                    new java.io.ByteArrayInputStream((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8))));
            exec.execute(cmd);
        } catch (Exception e) {
            // syslog is a convenience; the log file has every line
        }
    }
}
