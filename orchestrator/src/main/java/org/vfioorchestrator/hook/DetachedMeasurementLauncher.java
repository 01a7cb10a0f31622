package org.vfioorchestrator.hook;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;

/**
 * Runs {@code vfio-orchestrator measure VM --compare} detached ({@link CommandRunner#detach}): in its own
 * session, stdin from /dev/null and output to a log file, so it holds none of libvirt's pipes and libvirt
 * does not wait for it.
 */
public final class DetachedMeasurementLauncher implements MeasurementLauncher {
    private final HostFs host;
    private final CommandRunner runner;

    public DetachedMeasurementLauncher(HostFs host, CommandRunner runner) {
        this.host = host;
        this.runner = runner;
    }

    @Override
    public void launch(String vm, Duration duration) {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path jar;
        try {
            jar = Path.of(DetachedMeasurementLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "-cp", jar.toString(), "org.vfioorchestrator.cli.Main", "measure", vm,
                "--duration", duration.toSeconds() + "s", "--compare"));
        if (!host.isLive()) {
            // a hook call on a host tree measures that tree, never the live host
            cmd.add("--host-root");
            cmd.add(host.root().toString());
        }
        String logPath = "/var/log/vfio-orchestrator/measure-" + vm + ".log";
        host.append(logPath, "");
        runner.detach(cmd, host.resolve(logPath));
    }
}
