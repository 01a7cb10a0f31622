package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hook shim ({@code hooks/qemu}) run by /bin/sh as libvirt runs it, with a stand-in
 * {@code java} that records its arguments and stdin, and writes to stdout (which the shim must
 * never let through: libvirt reads the hook's stdout as XML for migrate and restore).
 */
class ShimTest {
    @TempDir
    Path dir;

    Path profiles;
    Path jar;
    Path log;
    static final String XML = "<domain type='kvm'>\n  <name>win11</name>\n</domain>\n\n";

    record Run(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() throws IOException {
        profiles = Files.createDirectories(dir.resolve("profiles"));
        Files.writeString(profiles.resolve("win11.yaml"), "host_cpus: 0\n");
        log = dir.resolve("log");
        // a stand-in 'java' first on PATH: records the jar after '-cp', what follows '-cp JAR MAIN', and stdin
        Files.createDirectories(dir.resolve("bin"));
        script("bin/java", "while [ \"$1\" != -cp ]; do shift; done\necho \"$2\" > " + dir.resolve("jar-used")
                + "\n[ \"$3\" = org.vfioorchestrator.cli.Entry ] || exit 99\nshift 3\n"
                + "[ \"$VFIO_ORCHESTRATOR_SYSLOG_FD\" = 3 ] && echo \"to syslog: $*\" >&3\n"
                + "printf 'launcher %s|' \"$*\" >> " + log + "\ncat >> " + log + "\necho '|' >> " + log
                + "\necho launcher-stdout\necho launcher-stderr >&2\nexit $(cat " + dir.resolve("rc") + " 2>/dev/null || echo 0)\n");
        jar = dir.resolve("lib/vfio-orchestrator.jar");
    }

    Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    Path shim(String chain) throws IOException {
        Path p = dir.resolve("qemu");
        Files.write(p, Resources.shim(profiles.toString(), jar.toString(), chain));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    Run run(Path shim, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(shim.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the shim exited without reading stdin: libvirt ignores that EPIPE too
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void aVmWithoutAProfileExitsZeroWithoutStartingTheLauncher() throws Exception {
        Path shim = shim(null);
        for (String vm : List.of("other-vm", ".hidden", "..", "a/b", "../profiles/win11", "")) {
            Run r = run(shim, XML, vm, "prepare", "begin", "-");
            assertEquals(new Run(0, "", ""), r, vm);
        }
        assertEquals("", log(), "no JVM started");
    }

    @Test
    void aStopReachesTheToolWithoutAProfileOnlyWhenTheJournalHoldsThatVm() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path shim = shim(null);
        Files.writeString(shim, Files.readString(shim).replace("state=/run/vfio-orchestrator", "state=" + state));
        Files.delete(profiles.resolve("win11.yaml")); // removed while the VM ran
        assertEquals(new Run(0, "", ""), run(shim, XML, "win11", "release", "end", "-"));
        assertEquals("", log(), "nothing applied: no JVM");

        Files.writeString(state.resolve("journal.json"), "{}");
        Files.createDirectories(state.resolve("applied"));
        Files.writeString(state.resolve("applied/other"), "");
        assertEquals(new Run(0, "", ""), run(shim, XML, "win11", "release", "end", "-"));
        assertEquals(new Run(0, "", ""), run(shim, XML, "win11", "stopped", "end", "-"));
        assertEquals("", log(), "the journal holds another VM, not this one: no JVM");

        Files.writeString(state.resolve("applied/win11"), "");
        assertEquals(0, run(shim, XML, "win11", "release", "end", "-").code());
        assertEquals("launcher hook win11 release end -|" + XML + "|\n", log(), "the tool reverts it from the journal");
        Files.writeString(log, "");
        assertEquals(0, run(shim, XML, "win11", "prepare", "begin", "-").code());
        assertEquals("", log(), "a start without a profile is still not ours");
        for (String vm : List.of("..", ".hidden", "a/b", "")) {
            assertEquals(new Run(0, "", ""), run(shim, XML, vm, "release", "end", "-"), vm);
        }
        assertEquals("", log(), "names that are no VM's never reach the markers");

        deleteTree(state.resolve("applied")); // a journal written before the markers existed
        assertEquals(0, run(shim, XML, "other", "release", "end", "-").code());
        assertEquals("launcher hook other release end -|" + XML + "|\n", log(), "then every stop asks the tool");
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    @Test
    void aProfiledVmExecsTheLauncherWithHookArgumentsAndStdinAndNothingReachesStdout() throws Exception {
        Run r = run(shim(null), XML, "win11", "prepare", "begin", "-");
        assertEquals(0, r.code());
        assertEquals("", r.out());
        assertEquals("launcher-stdout\nlauncher-stderr\n", r.err(), "the JVM's stdout goes to stderr");
        assertEquals("launcher hook win11 prepare begin -|" + XML + "|\n", log());
        assertEquals(jar + "\n", Files.readString(dir.resolve("jar-used")), "the installed jar, not a launcher on PATH");

        Files.writeString(dir.resolve("rc"), "1\n");
        assertEquals(1, run(shim(null), XML, "win11", "started", "begin", "-").code(), "a refusal reaches libvirt");
    }

    @Test
    void onlyPrepareAndStartedMayFailEvenWhenJavaItselfFails() throws Exception {
        Files.writeString(dir.resolve("rc"), "127\n"); // e.g. no java on libvirtd's PATH after an upgrade
        Path plain = shim(null);
        for (String[] op : List.of(new String[] {"reconnect", "begin"}, new String[] {"release", "end"},
                new String[] {"stopped", "end"}, new String[] {"migrate", "begin"})) {
            Run r = run(plain, XML, "win11", op[0], op[1], "-");
            assertEquals(0, r.code(), "a non-zero '" + op[0] + "' kills the VM or cannot abort anything");
            assertEquals("", r.out());
        }
        assertEquals(127, run(plain, XML, "win11", "prepare", "begin", "-").code());
        assertEquals(127, run(plain, XML, "win11", "started", "begin", "-").code());
        Path chained = shim(script("qemu.orig", "exit 0\n").toString());
        assertEquals(0, run(chained, XML, "win11", "reconnect", "begin", "-").code());
        assertEquals(127, run(chained, XML, "win11", "prepare", "begin", "-").code());
        Path failingOrig = shim(script("qemu.orig", "exit 3\n").toString());
        assertEquals(3, run(failingOrig, XML, "win11", "reconnect", "begin", "-").code(),
                "the old hook's own status is passed on: it is its decision");
    }

    @Test
    void aDanglingProfileSymlinkStillReachesTheToolWhichExplainsIt() throws Exception {
        Files.createSymbolicLink(profiles.resolve("lnk.yaml"), dir.resolve("nowhere.yaml"));
        run(shim(null), XML, "lnk", "prepare", "begin", "-");
        assertTrue(log().startsWith("launcher hook lnk prepare begin -|"), log());
    }

    @Test
    void chainedTheOldHookRunsFirstWithTheSameStdinAndKeepsItsStdout() throws Exception {
        Path orig = script("qemu.orig", "printf 'orig %s|' \"$*\" >> " + log + "\ncat >> " + log + "\necho '|' >> " + log
                + "\necho '<domain>from the old hook</domain>'\n");
        Run r = run(shim(orig.toString()), XML, "win11", "migrate", "begin", "-");
        assertEquals(0, r.code());
        assertEquals("<domain>from the old hook</domain>\n", r.out(), "the old hook's stdout is libvirt's business");
        assertEquals("orig win11 migrate begin -|" + XML + "|\nlauncher hook win11 migrate begin -|" + XML + "|\n", log());

        Files.delete(log);
        r = run(shim(orig.toString()), XML, "not-ours", "prepare", "begin", "-");
        assertEquals(0, r.code());
        assertEquals("orig not-ours prepare begin -|" + XML + "|\n", log(), "only the old hook runs for a VM without a profile");
    }

    @Test
    void chainedTheFirstFailureIsReturnedAndBothHooksRun() throws Exception {
        Path orig = script("qemu.orig", "echo old-hook-refuses >&2\nexit 2\n");
        Run r = run(shim(orig.toString()), XML, "win11", "prepare", "begin", "-");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("old-hook-refuses"), r.err());
        assertTrue(log().startsWith("launcher hook win11 prepare begin -|"), "ours runs too, as libvirt runs every hook");

        Files.writeString(dir.resolve("rc"), "1\n");
        Path ok = script("qemu.orig", "exit 0\n");
        assertEquals(1, run(shim(ok.toString()), XML, "win11", "prepare", "begin", "-").code());
    }

    @Test
    void chainedANonExecutableOldHookIsSkippedAsLibvirtWould() throws Exception {
        Path orig = script("qemu.orig", "exit 9\n");
        Files.setPosixFilePermissions(orig, PosixFilePermissions.fromString("rw-r--r--"));
        Run r = run(shim(orig.toString()), XML, "win11", "release", "end", "-");
        assertEquals(0, r.code(), r.err());
        assertFalse(log().isEmpty());
    }

    /** The shim with a syslog socket of the test's own where it looks for /dev/log, and a stand-in logger. */
    Path shimWithSyslog(String chain, ServerSocketChannel socket) throws IOException {
        Path sock = dir.resolve("log.sock");
        socket.bind(UnixDomainSocketAddress.of(sock));
        script("bin/logger", "printf 'logger %s|' \"$*\" >> " + dir.resolve("syslog") + "\ncat >> " + dir.resolve("syslog") + "\n");
        Path p = shim(chain);
        Files.writeString(p, Files.readString(p).replace("[ -S /dev/log ]", "[ -S '" + sock + "' ]"));
        return p;
    }

    String syslog() throws IOException {
        Path f = dir.resolve("syslog");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    @Test
    void withASyslogSocketTheHooksLinesGoToLoggerAndExitCodesStayTheSame() throws Exception {
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            Path shim = shimWithSyslog(null, socket);
            Run r = run(shim, XML, "win11", "prepare", "begin", "-");
            assertEquals(new Run(0, "", "launcher-stdout\nlauncher-stderr\n"), r, "nothing reaches stdout");
            assertEquals("logger -t vfio-orchestrator|to syslog: hook win11 prepare begin -\n", syslog());
            assertEquals("launcher hook win11 prepare begin -|" + XML + "|\n", log(), "stdin reaches the JVM");

            Files.writeString(dir.resolve("rc"), "1\n");
            assertEquals(1, run(shim, XML, "win11", "prepare", "begin", "-").code(), "a refusal reaches libvirt");
            Files.writeString(dir.resolve("rc"), "127\n");
            assertEquals(127, run(shim, XML, "win11", "started", "begin", "-").code());
            for (String[] op : List.of(new String[] {"reconnect", "begin"}, new String[] {"release", "end"})) {
                assertEquals(new Run(0, "", "launcher-stdout\nlauncher-stderr\n"), run(shim, XML, "win11", op[0], op[1], "-"));
            }

            Path chained = shimWithSyslogAgain(script("qemu.orig", "echo old-hook-stdout\nexit 2\n").toString());
            Files.writeString(dir.resolve("rc"), "0\n");
            Files.writeString(dir.resolve("syslog"), "");
            r = run(chained, XML, "win11", "prepare", "begin", "-");
            assertEquals(2, r.code(), "the old hook's refusal first");
            assertEquals("old-hook-stdout\n", r.out());
            assertEquals("logger -t vfio-orchestrator|to syslog: hook win11 prepare begin -\n", syslog(), "ours ran too");
        }
    }

    /** Another shim with the socket already bound by {@link #shimWithSyslog}. */
    private Path shimWithSyslogAgain(String chain) throws IOException {
        Path p = shim(chain);
        Files.writeString(p, Files.readString(p).replace("[ -S /dev/log ]", "[ -S '" + dir.resolve("log.sock") + "' ]"));
        return p;
    }

    @Test
    void withoutASyslogSocketLoggerIsNotStarted() throws Exception {
        script("bin/logger", "echo started > " + dir.resolve("syslog") + "\n");
        Path shim = shim(null);
        Files.writeString(shim, Files.readString(shim).replace("[ -S /dev/log ]", "[ -S '" + dir.resolve("no.sock") + "' ]"));
        assertEquals(new Run(0, "", "launcher-stdout\nlauncher-stderr\n"), run(shim, XML, "win11", "prepare", "begin", "-"));
        assertEquals("", syslog());
    }

    @Test
    void pathsWithQuotesAndSpacesAreQuotedForSh() throws Exception {
        Path odd = Files.createDirectories(dir.resolve("it's a dir"));
        Files.writeString(odd.resolve("win11.yaml"), "");
        profiles = odd;
        Run r = run(shim(null), XML, "win11", "prepare", "begin", "-");
        assertEquals(0, r.code(), r.err());
        assertTrue(log().startsWith("launcher hook win11"), log());
        assertEquals(odd.toString(), Resources.settingOf(Files.readAllBytes(dir.resolve("qemu")), "profiles"));
    }
}
