package org.vfioorchestrator.host;

import java.time.Duration;
import java.util.List;
import org.vfioorchestrator.process.CommandRunner;

/** The running systemd, through systemctl (an argument array: unit names never pass a shell). */
final class LiveSystemd implements Systemd {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final CommandRunner runner;

    LiveSystemd(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public String property(String unit, String name) {
        return systemctl("show", "-p", name, "--value", "--", unit).strip();
    }

    @Override
    public void setRuntimeProperty(String unit, String name, String value) {
        systemctl("set-property", "--runtime", "--", unit, name + "=" + value);
    }

    @Override
    public void reload() {
        systemctl("daemon-reload");
    }

    private String systemctl(String... args) {
        List<String> argv = new java.util.ArrayList<>();
        argv.add("systemctl");
        argv.addAll(List.of(args));
        CommandRunner.Result r = runner.run(argv, TIMEOUT);
        if (r.exitCode() != 0) {
            String why = r.stderr().strip().isEmpty() ? "exit code " + r.exitCode() : r.stderr().strip();
            throw new HostIoException(String.join(" ", argv), Errno.EIO, why);
        }
        return r.stdout();
    }
}
