package org.vfioorchestrator.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A tear-down that puts the machine back: every step is tried even when an earlier one failed, and all
 * failures are reported together at the end ({@link #check}).
 */
final class Cleanup {
    interface Step {
        void run() throws Exception;
    }

    private final List<String> problems = new ArrayList<>();

    void attempt(String what, Step step) {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            problems.add(what + ": " + e);
        }
    }

    void problem(String what) {
        problems.add(what);
    }

    void check() {
        if (!problems.isEmpty()) {
            throw new AssertionError("clean-up: " + String.join("; ", problems));
        }
    }

    static void deleteFilesAndDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    /**
     * Files (content and mode; unreadable ones skipped), links and directories under {@code dir}, to compare
     * before and after; pressure averages drift on their own.
     */
    static Map<String, String> snapshotTree(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        if (!Files.exists(dir)) {
            return m;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                if (p.getFileName().toString().endsWith("memory_pressure")) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    m.put(p.toString(), "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    m.put(p.toString(), "<dir>");
                } else {
                    try {
                        m.put(p.toString(), new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1)
                                + " " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
                    } catch (IOException e) {
                        // write-only control files
                    }
                }
            }
        }
        return m;
    }
}
