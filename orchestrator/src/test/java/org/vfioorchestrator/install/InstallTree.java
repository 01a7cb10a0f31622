package org.vfioorchestrator.install;

import static org.vfioorchestrator.testing.CliRun.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.vfioorchestrator.testing.CliRun;

/**
 * A tree to install into ({@code --root}): libvirt's hook directory, {@code /usr/local/bin} with
 * someone else's program in it, and a stand-in jar beside it; install and uninstall run on it
 * through {@code Main.run}, as a user types them.
 */
final class InstallTree {
    final Path root;
    final Path jar;

    InstallTree(Path dir, String name) throws IOException {
        root = dir.resolve(name);
        Files.createDirectories(root.resolve("etc/libvirt/hooks"));
        Files.createDirectories(root.resolve("usr/local/bin"));
        Files.writeString(root.resolve("usr/local/bin/something-else"), "#!/bin/sh\n");
        jar = dir.resolve(name + ".jar");
        Files.write(jar, "PK\u0003\u0004 not really a jar, but it starts like one".getBytes(StandardCharsets.ISO_8859_1));
    }

    CliRun install(String... more) {
        return command(List.of("install", "--root", root.toString(), "--jar", jar.toString()), more);
    }

    CliRun uninstall(String... more) {
        return command(List.of("uninstall", "--root", root.toString()), more);
    }

    private static CliRun command(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return run(all.toArray(String[]::new));
    }

    Path path(String rel) {
        return root.resolve(rel);
    }

    Map<String, String> snapshot() throws IOException {
        return snapshot(root);
    }

    /**
     * Every path under {@code root} with its type, mode, owner (when not the test's) and content (or link
     * target; a special file is never opened): "byte-identical" means equal.
     */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        Object me = Files.getAttribute(root, "unix:uid");
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                Object uid = Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS))
                        + (uid.equals(me) ? "" : " uid " + uid);
                String what = Files.isSymbolicLink(p) ? "link -> " + Files.readSymbolicLink(p)
                        : Files.isDirectory(p) ? "dir " + mode
                        : !Files.isRegularFile(p) ? "special " + mode
                        : "file " + mode + " " + new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
                m.put(root.relativize(p).toString(), what);
            }
        }
        return m;
    }
}
