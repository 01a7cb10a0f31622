package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
