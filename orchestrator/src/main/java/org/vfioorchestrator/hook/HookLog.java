package org.vfioorchestrator.hook;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.vfioorchestrator.UtcTime;
import org.vfioorchestrator.host.HostFs;

/**
 * One line per action, to {@code /var/log/vfio-orchestrator/hook.log} and, where the shim hands
 * the hook a pipe to {@code logger} ({@link #syslogFromShim}), to syslog/the journal. Each line is
 * written when it comes, so a hook that is killed still leaves what it did. Logging never fails
 * the hook.
 */
final class HookLog implements Consumer<String> {
    static final String FILE = "/var/log/vfio-orchestrator/hook.log";
    /** The shim's variable naming the descriptor of its pipe to logger (see hooks/qemu). */
    static final String SYSLOG_FD = "VFIO_ORCHESTRATOR_SYSLOG_FD";

    private final HostFs host;
    private final String prefix;
    private OutputStream file;
    private boolean fileFailed;
    private OutputStream syslog;

    /** @param syslog where lines go to syslog, one per line; null: nowhere */
    HookLog(HostFs host, String vm, String operation, OutputStream syslog) {
        this.host = host;
        this.prefix = vm + " " + operation + ": ";
        this.syslog = syslog;
    }

    /**
     * The shim's pipe to logger: the descriptor {@link #SYSLOG_FD} names, opened through
     * /dev/fd (a descriptor of this process, not a host file); null where there is none.
     */
    static OutputStream syslogFromShim(String fd) {
        if (fd == null || fd.length() != 1 || fd.charAt(0) < '3' || fd.charAt(0) > '9') {
            return null;
        }
        try {
            return new FileOutputStream("/dev/fd/" + fd);
        } catch (IOException e) {
            return null; // the shell closed it, or this is no Linux: the log file still has every line
        }
    }

    @Override
    public void accept(String line) {
        String full = prefix + line.replace('\n', ' ');
        if (syslog != null) {
            try {
                syslog.write((full + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                syslog = null; // logger went away; syslog is a convenience
            }
        }
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

    /** Closes the log file (the syslog pipe closes when the JVM exits, after the last line of the call). */
    void finish() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // every line was written when it came
            }
        }
    }
}
