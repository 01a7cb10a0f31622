package org.vfioorchestrator.hook;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.host.HostFs;

/**
 * Runs {@code vfio-orchestrator measure VM --compare} in its own session
 * ({@code setsid -f}), stdin from /dev/null and output to a log file, so it
 * holds none of libvirt's pipes and libvirt does not wait for it.
 */
public final class DetachedMeasurementLauncher implements MeasurementLauncher {
    private final HostFs host;

    public DetachedMeasurementLauncher(HostFs host) {
        this.host = host;
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
        List<String> cmd = new ArrayList<>(List.of("setsid", "-f", java, "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "-cp", jar.toString(), "org.vfioorchestrator.cli.Main", "measure", vm,
                "--duration", duration.toSeconds() + "s", "--compare"));
        String logPath = "/var/log/vfio-orchestrator/measure-" + vm + ".log";
        host.append(logPath, "");
        File log = host.resolve(logPath).toFile();
        try {
            new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
                    .redirectError(ProcessBuilder.Redirect.appendTo(log))
                    .start()
                    .waitFor(); // setsid -f returns at once, after forking the real process
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot start the measurement: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
