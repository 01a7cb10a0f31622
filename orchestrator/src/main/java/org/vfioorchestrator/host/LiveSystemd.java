package org.vfioorchestrator.host;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.process.CommandRunner;

/** The running systemd, through systemctl (an argument array: unit names never pass a shell). */
final class LiveSystemd implements Systemd {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final CommandRunner runner;

    LiveSystemd(CommandRunner runner) {
        this.runner = runner;
    }

    /** systemctl prints one "NAME=value" block per unit, in the order asked, separated by empty lines. */
    @Override
    public Map<String, String> properties(List<String> units, String name) {
        List<String> argv = new java.util.ArrayList<>(List.of("show", "-p", name, "--"));
        argv.addAll(units);
        List<String> values = new java.util.ArrayList<>();
        for (String line : systemctl(argv.toArray(String[]::new)).split("\n")) {
            if (line.startsWith(name + "=")) {
                values.add(line.substring(name.length() + 1).strip());
            }
        }
        if (values.size() != units.size()) {
            throw new HostIoException("systemctl show -p " + name, Errno.EIO, "gave " + values.size() + " values for "
                    + units.size() + " units");
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < units.size(); i++) {
            out.put(units.get(i), values.get(i));
        }
        return out;
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
