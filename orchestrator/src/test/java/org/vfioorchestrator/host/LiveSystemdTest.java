package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.process.CommandRunner;

/** systemctl as LiveSystemd calls it: argument arrays, and one 'show' for all the units a plan reads. */
class LiveSystemdTest {
    private final CommandRunner runner = mock(CommandRunner.class);
    private final LiveSystemd systemd = new LiveSystemd(runner);

    @Test
    void onePropertyOfSeveralUnitsIsReadInOneShowInTheirOrder() {
        List<String> argv = List.of("systemctl", "show", "-p", "AllowedCPUs", "--", "init.scope", "system.slice", "user.slice");
        // what systemd 252 prints: a block per unit, an empty line between them
        when(runner.run(eq(argv), any())).thenReturn(new CommandRunner.Result(0, "AllowedCPUs=\n\nAllowedCPUs=0-1\n\nAllowedCPUs=0-1\n", ""));

        assertEquals(Map.of("init.scope", "", "system.slice", "0-1", "user.slice", "0-1"),
                systemd.properties(List.of("init.scope", "system.slice", "user.slice"), "AllowedCPUs"));
        verify(runner).run(eq(argv), any());
    }

    @Test
    void aShowThatAnswersForFewerUnitsThanAskedIsAnErrorNotAGuess() {
        when(runner.run(any(), any())).thenReturn(new CommandRunner.Result(0, "AllowedCPUs=0-1\n", ""));
        HostIoException e = assertThrows(HostIoException.class,
                () -> systemd.properties(List.of("system.slice", "user.slice"), "AllowedCPUs"));
        assertEquals(Errno.EIO, e.errno());
    }

    @Test
    void setPropertyIsOneArgumentArrayWithTheUnitAfterDoubleDash() {
        when(runner.run(any(), any())).thenReturn(new CommandRunner.Result(0, "", ""));
        systemd.setRuntimeProperty("user.slice", "AllowedCPUs", "0-1");
        verify(runner).run(eq(List.of("systemctl", "set-property", "--runtime", "--", "user.slice", "AllowedCPUs=0-1")), any());
    }
}
