package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfioorchestrator.testing.CliRun;
import picocli.CommandLine;

/** Every command, as picocli's model lists them (so a new one is covered too), answers --help and -h. */
class HelpTest {
    static Stream<Arguments> commandsAndHelpFlags() {
        List<Arguments> out = new ArrayList<>();
        collect(new CommandLine(new Main()), new ArrayList<>(), out);
        return out.stream();
    }

    private static void collect(CommandLine cl, List<String> path, List<Arguments> out) {
        for (String flag : List.of("--help", "-h")) {
            List<String> args = new ArrayList<>(path);
            args.add(flag);
            out.add(Arguments.of(String.join(" ", args), args));
        }
        cl.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandName().equals(name)) { // aliases are the same command
                List<String> p = new ArrayList<>(path);
                p.add(name);
                collect(sub, p, out);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commandsAndHelpFlags")
    void answersHelp(String shown, List<String> args) {
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals("", r.err(), shown);
        assertEquals(0, r.code(), shown);
        String name = args.size() == 1 ? "vfio-orchestrator" : "vfio-orchestrator " + String.join(" ", args.subList(0, args.size() - 1));
        assertTrue(r.out().contains("Usage: " + name + " "), shown + ":\n" + r.out());
    }
}
