package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.Requires;

/**
 * The zsh completion install writes, in a real interactive zsh that zsh's own zpty module drives as a
 * terminal would: compinit finds it in the directory install chose, which this zsh searches by default,
 * and Tab completes a command on the first press in a new shell, and an option on the next.
 */
class ZshCompletionTest {
    /** Drives 'zsh -i' in a pseudo-terminal: types each line with its Tab, waits for the next prompt. */
    private static final String DRIVER = """
            zmodload zsh/zpty || exit 3
            zpty shell "zsh -i 2>${(q)ZSH_ERRORS}"
            zpty -r shell out '*READY> *' || exit 4
            for line in $'vfio-orchestrator pl\\t\\r' $'vfio-orchestrator uninstall --pur\\t\\r'; do
                zpty -w -n shell $line
                zpty -r shell out '*READY> *' || exit 4
            done
            zpty -w -n shell $'exit\\r'
            while zpty -r shell out; do :; done # until it has exited: its last writes must still find the terminal
            zpty -d shell
            """;

    @TempDir
    Path dir;

    static String zsh() {
        return Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "zsh")).filter(Files::isExecutable)
                .map(Path::toString).findFirst().orElse(null);
    }

    private String run(String... argv) throws Exception {
        return run(Map.of(), argv).out();
    }

    private CliRun run(Map<String, String> env, String... argv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectInput(new File("/dev/null"))
                .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", argv) + ": no end after 2 minutes");
        }
        return new CliRun(p.exitValue(), Files.readString(dir.resolve("stdout")), Files.readString(dir.resolve("stderr")));
    }

    @ParameterizedTest(name = "--prefix {0}")
    @CsvSource({"/usr/local, /usr/local/share/zsh/site-functions", "/usr, /usr/share/zsh/vendor-completions"})
    void tabCompletesACommandOnTheFirstPressAndAnOptionOnTheNext(String prefix, String functions) throws Exception {
        String zsh = zsh();
        Requires.that(zsh != null, "needs zsh (apt-get install zsh)");
        InstallTree tree = new InstallTree(dir, "root");
        CliRun installed = tree.install("--libvirt-version", "9.0.0", "--prefix", prefix);
        assertEquals(0, installed.code(), installed.err());
        assertTrue(installed.out().contains("wrote " + tree.root + functions + "/_vfio-orchestrator\n"), installed.out());
        assertTrue(run(zsh, "-fc", "print -l $fpath").lines().toList().contains(functions),
                functions + " is where this zsh looks by itself");

        // a new user's shell: compinit, the installed functions directory, and a vfio-orchestrator that notes its arguments
        Path home = Files.createDirectories(dir.resolve("home"));
        Files.writeString(home.resolve(".zshrc"), "fpath=(" + tree.root + functions + " $fpath)\n"
                + "autoload -Uz compinit && compinit -u -d " + home.resolve("zcompdump") + "\nPS1='READY> '\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path ran = dir.resolve("ran");
        Files.writeString(bin.resolve("vfio-orchestrator"), "#!/bin/sh\necho \"$*\" >> '" + ran + "'\n");
        Files.setPosixFilePermissions(bin.resolve("vfio-orchestrator"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path driver = Files.writeString(dir.resolve("driver.zsh"), DRIVER);
        Path errors = dir.resolve("zsh-errors");

        CliRun r = run(Map.of("HOME", home.toString(), "ZDOTDIR", home.toString(), "TERM", "xterm", "PATH", bin + ":/usr/bin:/bin",
                "ZSH_ERRORS", errors.toString()), zsh, "-f", driver.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(List.of("plan", "uninstall --purge"), Files.readAllLines(ran, StandardCharsets.UTF_8),
                "the lines the shell ran once Tab had completed them");
        assertEquals("", Files.readString(errors), "nothing on the shell's stderr");
    }
}
