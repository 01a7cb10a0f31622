package org.vfioorchestrator.hook;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.profile.Profile.MeasurePolicy;

/**
 * Runs {@code vfio-orchestrator measure VM --compare [--in-guest --agent-wait 5m]} detached ({@link CommandRunner#detach}): in its own
 * session, stdin from /dev/null and output to a log file, so it holds none of libvirt's pipes and libvirt
 * does not wait for it. Only that process asks libvirt for the guest agent: the hook itself never calls into
 * libvirt. It waits for a booting guest's agent up to {@link #AGENT_WAIT}, and without one it keeps the
 * host-side figures.
 */
public final class DetachedMeasurementLauncher implements MeasurementLauncher {
    /** A guest's agent answers once its system is up: seconds under KVM, a minute or two under TCG. */
    static final Duration AGENT_WAIT = Duration.ofMinutes(5);

    private final HostFs host;
    private final CommandRunner runner;

    public DetachedMeasurementLauncher(HostFs host, CommandRunner runner) {
        this.host = host;
        this.runner = runner;
    }

    @Override
    public void launch(String vm, MeasurePolicy policy) {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path jar;
        try {
            jar = Path.of(DetachedMeasurementLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "-cp", jar.toString(), "org.vfioorchestrator.cli.Main", "measure", vm,
                "--duration", policy.duration().toSeconds() + "s", "--compare"));
        if (policy.inGuest()) {
            cmd.addAll(List.of("--in-guest", "--agent-wait", AGENT_WAIT.toSeconds() + "s"));
        }
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
