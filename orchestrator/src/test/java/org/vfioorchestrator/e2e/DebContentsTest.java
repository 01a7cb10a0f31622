package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.GzippedManPage;
import org.vfioorchestrator.testing.Requires;

/**
 * What the .deb that 'mvn package' builds holds, as Debian policy wants it, unpacked with dpkg-deb (no
 * root needed; {@link DebPackageE2eTest} installs it): man pages gzipped with {@code gzip -9n} (12.1), the
 * same bytes install writes, the bash and zsh completions install writes, and a machine-readable
 * copyright file (12.5) that names every library bundled in the jar.
 */
@Tag("e2e")
class DebContentsTest {
    static final String COPYRIGHT = "usr/share/doc/vfio-orchestrator/copyright";

    @TempDir
    Path tree;

    Path unpacked() throws IOException {
        Requires.that(Libvirtd.onPath("dpkg-deb").isPresent(), "needs dpkg-deb (apt-get install dpkg)");
        Path deb = DebPackageE2eTest.builtDeb();
        Requires.that(deb != null, "no vfio-orchestrator_*_all.deb beside " + System.getProperty("vfio.jar") + ": run 'mvn -B"
                + " verify' (the e2e tests run after 'package')");
        Cmd.Out x = Cmd.run(Duration.ofMinutes(1), "dpkg-deb", "-x", deb.toString(), tree.toString());
        assertEquals(0, x.code(), x.err());
        return tree;
    }

    @Test
    void manPagesAreGzippedAsInstallWritesThem() throws Exception {
        Path man = unpacked().resolve("usr/share/man/man1");
        List<String> names = list(man);
        assertTrue(names.contains("vfio-orchestrator.1.gz") && names.contains("vfio-orchestrator-cds-archive.1.gz"), names.toString());
        try (FileSystem jar = FileSystems.newFileSystem(tree.resolve("usr/lib/vfio-orchestrator/vfio-orchestrator.jar"))) {
            Path resources = jar.getPath("org/vfioorchestrator/install/man");
            assertEquals(Files.readAllLines(resources.resolve("index")), names, "the pages install writes, by the same names");
            for (String name : names) {
                byte[] gz = Files.readAllBytes(man.resolve(name));
                assertTrue(GzippedManPage.text(name, gz).contains("\n.TH \""), name);
                assertArrayEquals(Files.readAllBytes(resources.resolve(name)), gz, name + ": the bytes install writes");
            }
        }
    }

    @Test
    void theCompletionsAreTheOnesInstallWrites() throws Exception {
        Path usr = unpacked().resolve("usr/share");
        try (FileSystem jar = FileSystems.newFileSystem(tree.resolve("usr/lib/vfio-orchestrator/vfio-orchestrator.jar"))) {
            Path resources = jar.getPath("org/vfioorchestrator/install/completion");
            assertArrayEquals(Files.readAllBytes(resources.resolve("vfio-orchestrator")),
                    Files.readAllBytes(usr.resolve("bash-completion/completions/vfio-orchestrator")), "bash");
            // Debian's zsh looks in /usr/share/zsh/vendor-completions for its packages' (ZshCompletionTest runs it)
            assertArrayEquals(Files.readAllBytes(resources.resolve("_vfio-orchestrator")),
                    Files.readAllBytes(usr.resolve("zsh/vendor-completions/_vfio-orchestrator")), "zsh");
        }
    }

    @Test
    void theCopyrightFileIsMachineReadableAndNamesEveryBundledLibrary() throws Exception {
        String copyright = Files.readString(unpacked().resolve(COPYRIGHT));
        assertTrue(copyright.startsWith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"), copyright);
        List<String> patterns = new ArrayList<>();
        Set<String> licensesUsed = new TreeSet<>();
        Set<String> licensesGiven = new TreeSet<>();
        for (String paragraph : copyright.split("\n\n")) {
            String files = field(paragraph, "Files");
            String license = field(paragraph, "License");
            if (files != null) {
                patterns.addAll(List.of(files.split("\\s+")));
                licensesUsed.addAll(List.of(license.lines().findFirst().orElseThrow().split(" and | or ")));
            }
            if (license != null && license.contains("\n")) { // its text, or where Debian keeps it
                licensesGiven.add(license.lines().findFirst().orElseThrow());
            }
        }
        assertTrue(patterns.contains("*"), "the project's own files");
        assertEquals(licensesUsed, licensesGiven, "every licence a Files paragraph names has its text or pointer");

        List<String> uncovered = new ArrayList<>();
        try (FileSystem jar = FileSystems.newFileSystem(tree.resolve("usr/lib/vfio-orchestrator/vfio-orchestrator.jar"));
                Stream<Path> walk = Files.walk(jar.getPath("/"))) {
            for (Path p : walk.filter(p -> p.toString().endsWith(".class")).toList()) {
                String path = p.toString().substring(1).replaceFirst("^META-INF/versions/\\d+/", "");
                boolean ours = path.startsWith("org/vfioorchestrator/");
                if (!ours && patterns.stream().noneMatch(pattern -> !pattern.equals("*") && matches(pattern, path))) {
                    uncovered.add(path);
                }
            }
        }
        assertEquals(List.of(), uncovered.stream().map(p -> p.substring(0, p.lastIndexOf('/') + 1)).distinct().toList(),
                "packages of bundled classes the copyright file does not name");
    }

    /** A field's value, continuation lines joined with newlines; null when the paragraph has none. */
    static String field(String paragraph, String name) {
        List<String> lines = paragraph.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(name + ": ")) {
                StringBuilder value = new StringBuilder(lines.get(i).substring(name.length() + 2));
                for (int j = i + 1; j < lines.size() && lines.get(j).startsWith(" "); j++) {
                    value.append('\n').append(lines.get(j).strip());
                }
                return value.toString();
            }
        }
        return null;
    }

    /** The copyright format's patterns: '*' any run of characters ('/' too), '?' one. */
    static boolean matches(String pattern, String path) {
        StringBuilder regex = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            regex.append(c == '*' ? ".*" : c == '?' ? "." : java.util.regex.Pattern.quote(String.valueOf(c)));
        }
        return path.matches(regex.toString());
    }

    static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
