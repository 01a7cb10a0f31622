package org.vfioorchestrator.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.ArgumentCaptor;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.profile.Profile.MeasurePolicy;

class DetachedMeasurementLauncherTest {
    @TempDir
    Path root;

    @Test
    void theMeasurementIsDetachedWithItsLogUnderVarLog() {
        CommandRunner runner = mock(CommandRunner.class);
        new DetachedMeasurementLauncher(HostFs.open(root), runner).launch("win11", policy(false));

        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<String>> argv = ArgumentCaptor.forClass(List.class);
        Path log = root.resolve("var/log/vfio-orchestrator/measure-win11.log");
        verify(runner).detach(argv.capture(), eq(log));
        assertTrue(Files.isRegularFile(log), "the log exists before the job appends to it");
        List<String> cmd = argv.getValue();
        assertEquals(ProcessHandle.current().info().command().orElseThrow(), cmd.get(0), "the JVM the hook runs in");
        assertEquals(List.of("org.vfioorchestrator.cli.Main", "measure", "win11", "--duration", "30s", "--compare",
                "--host-root", root.toString()), cmd.subList(cmd.size() - 8, cmd.size()), "it measures the same host tree");
    }

    @Test
    void onTheLiveHostNoRootIsPassed() {
        CommandRunner runner = mock(CommandRunner.class);
        HostFs live = mock(HostFs.class);
        when(live.isLive()).thenReturn(true);
        Path log = Path.of("/var/log/vfio-orchestrator/measure-win11.log");
        when(live.resolve(log.toString())).thenReturn(log);
        new DetachedMeasurementLauncher(live, runner).launch("win11", policy(false));

        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<String>> argv = ArgumentCaptor.forClass(List.class);
        verify(runner).detach(argv.capture(), eq(log));
        List<String> cmd = argv.getValue();
        assertEquals(List.of("measure", "win11", "--duration", "30s", "--compare"), cmd.subList(cmd.size() - 5, cmd.size()));
    }

    /** measure.in_guest: the detached job (never the hook) asks the guest agent, giving a booting guest 5 minutes. */
    @Test
    void aProfileThatAsksForTheGuestsFiguresWaitsForItsAgent() {
        CommandRunner runner = mock(CommandRunner.class);
        new DetachedMeasurementLauncher(HostFs.open(root), runner).launch("win11", policy(true));

        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<String>> argv = ArgumentCaptor.forClass(List.class);
        verify(runner).detach(argv.capture(), eq(root.resolve("var/log/vfio-orchestrator/measure-win11.log")));
        List<String> cmd = argv.getValue();
        assertEquals(List.of("measure", "win11", "--duration", "30s", "--compare", "--in-guest", "--agent-wait", "300s",
                "--host-root", root.toString()), cmd.subList(cmd.size() - 10, cmd.size()));
    }

    static MeasurePolicy policy(boolean inGuest) {
        return new MeasurePolicy(true, Duration.ofSeconds(30), OptionalInt.empty(), inGuest);
    }
}
