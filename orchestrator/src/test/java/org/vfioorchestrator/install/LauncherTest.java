package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.CliRun;

/**
 * The launcher ({@code vfio-orchestrator} at the top of the checkout, installed beside the jar) run
 * by /bin/sh with a stand-in {@code java} that prints its arguments: however the launcher is
 * reached (a symlink on PATH, a relative path, a symlinked jar), the JVM gets the jar's one
 * canonical path, which the class-data-sharing archive records and must see again to be used.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("repo.root"), "vfio-orchestrator");

    @TempDir
    Path dir;

    Path installed;
    Path jar;

    @BeforeEach
    void install() throws IOException {
        // as 'install' lays it out: lib/vfio-orchestrator/{vfio-orchestrator,vfio-orchestrator.jar}, bin/ a symlink
        Path lib = Files.createDirectories(dir.resolve("lib/vfio-orchestrator"));
        installed = lib.resolve("vfio-orchestrator");
        Files.copy(LAUNCHER, installed);
        Files.setPosixFilePermissions(installed, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.writeString(lib.resolve("vfio-orchestrator.jar"), "not a real jar");
        Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(dir.resolve("bin/vfio-orchestrator"), installed);
        Path java = Files.writeString(Files.createDirectories(dir.resolve("fake")).resolve("java"),
                "#!/bin/sh\necho \"$*\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The arguments the launcher gave java, run from {@code cwd}. */
    private String run(Path cwd, String cdpath, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.add("--version");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().put("PATH", dir.resolve("fake") + ":/usr/bin:/bin");
        if (cdpath != null) {
            pb.environment().put("CDPATH", cdpath);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.strip();
    }

    record Launched(int code, String out, String err) {
    }

    /** Runs the installed launcher with {@code args}, the {@code java} it finds first in {@code javaDir}. */
    private Launched launch(Path javaDir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(installed.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("PATH", javaDir + ":/usr/bin:/bin");
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Launched(p.exitValue(), out, new String(err.get(), StandardCharsets.UTF_8));
    }

    /** A {@code java} that is the real one, with this test's class path in place of the stand-in jar the launcher names. */
    private Path realJava() throws IOException {
        Path java = Files.writeString(Files.createDirectories(dir.resolve("real")).resolve("java"), "#!/bin/sh\n"
                + "for a do\n"
                + "    shift\n"
                + "    if [ -n \"$cp\" ]; then set -- \"$@\" '" + System.getProperty("java.class.path") + "'; cp=\n"
                + "    else set -- \"$@\" \"$a\"; [ \"$a\" = -cp ] && cp=1\n"
                + "    fi\n"
                + "done\n"
                + "exec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return java.getParent();
    }

    @Test
    void cdsArchiveAnswersHelpWithItsUsage() throws Exception {
        Path java = realJava();
        for (String flag : List.of("--help", "-h")) {
            Launched r = launch(java, "cds-archive", flag);
            assertEquals("", r.err(), flag);
            assertEquals(0, r.code(), flag);
            assertTrue(r.out().startsWith("Write the class-data-sharing archive the hook starts faster with.\n"
                    + "Usage: vfio-orchestrator cds-archive [-hV] [FILE]\n"), flag + ":\n" + r.out());
        }
        assertFalse(Files.exists(jar.resolveSibling("vfio-orchestrator.jsa")), "no archive written");
        assertFalse(Files.exists(dir.resolve("--help.tmp")), "no temporary file named after the option");
    }

    @Test
    void cdsArchiveRefusesOtherOptionsAndASecondFileInOneLine() throws Exception {
        Path fake = dir.resolve("fake"); // java would print its arguments: it must not run at all
        assertEquals(new Launched(2, "", "vfio-orchestrator cds-archive: unknown option '--output'; usage: vfio-orchestrator"
                + " cds-archive [FILE] (see --help)\n"), launch(fake, "cds-archive", "--output", "x.jsa"));
        assertEquals(new Launched(2, "", "vfio-orchestrator cds-archive: unknown option '-x'; usage: vfio-orchestrator"
                + " cds-archive [FILE] (see --help)\n"), launch(fake, "cds-archive", "a.jsa", "-x"));
        assertEquals(new Launched(2, "", "vfio-orchestrator cds-archive: one FILE at most, got 'a.jsa' and 'b.jsa'; usage:"
                + " vfio-orchestrator cds-archive [FILE]\n"), launch(fake, "cds-archive", "a.jsa", "b.jsa"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "nothing written");
        }
    }

    @Test
    void cdsArchiveReachedWithoutTheLauncherSaysToUseIt() {
        CliRun r = CliRun.run("cds-archive", "x.jsa");
        assertEquals(new CliRun(2, "", "vfio-orchestrator cds-archive: run it through the launcher, which starts the JVM that"
                + " writes the archive: vfio-orchestrator cds-archive x.jsa (not java -jar)\n"), r);
    }

    private static String classPath(String javaArgs) {
        String[] words = javaArgs.split(" ");
        for (int i = 0; i < words.length - 1; i++) {
            if (words[i].equals("-cp")) {
                return words[i + 1];
            }
        }
        throw new AssertionError("no -cp in: " + javaArgs);
    }

    @Test
    void theJvmGetsTheJarsCanonicalPathHoweverTheLauncherIsReached() throws Exception {
        String canonical = jar.toRealPath().toString();
        assertEquals(canonical, classPath(run(dir, null, installed.toString())), "absolute path");
        assertEquals(canonical, classPath(run(dir, null, dir.resolve("bin/vfio-orchestrator").toString())), "symlink on PATH");
        assertEquals(canonical, classPath(run(dir, null, "sh", "lib/vfio-orchestrator/vfio-orchestrator")), "relative, through sh");
        assertEquals(canonical, classPath(run(dir.resolve("lib/vfio-orchestrator"), null, "sh", "vfio-orchestrator")),
                "no directory in $0");
        Files.createDirectories(dir.resolve("decoy/lib/vfio-orchestrator"));
        assertEquals(canonical, classPath(run(dir, dir.resolve("decoy").toString(), "sh", "lib/vfio-orchestrator/vfio-orchestrator")),
                "CDPATH naming another directory of the same relative path: cd neither goes there nor prints it");

        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")).resolve("real.jar");
        Files.move(jar, elsewhere);
        Files.createSymbolicLink(jar, elsewhere);
        assertEquals(elsewhere.toRealPath().toString(), classPath(run(dir, null, installed.toString())), "a symlinked jar");
    }

    @Test
    void theArchiveBesideTheJarIsUsedOnlyWhenNewerThanIt() throws Exception {
        assertTrue(!run(dir, null, installed.toString()).contains("SharedArchiveFile"), "no archive yet");
        Path jsa = Files.writeString(jar.resolveSibling("vfio-orchestrator.jsa"), "archive");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        String args = run(dir, null, dir.resolve("bin/vfio-orchestrator").toString());
        assertTrue(args.contains("-XX:SharedArchiveFile=" + jsa.toRealPath() + " "), args);

        Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        assertTrue(!run(dir, null, installed.toString()).contains("SharedArchiveFile"), "an archive older than the jar is not used");
    }
}
