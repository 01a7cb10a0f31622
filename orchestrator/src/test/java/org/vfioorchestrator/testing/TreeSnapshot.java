package org.vfioorchestrator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Every file (bytes) and directory of a host tree, for "byte-identical after
 * apply + revert" checks. The tool's own state and logs are left out: they
 * are ours, not the host's; and so is the simulated kernel's scratch directory
 * (where a killed write leaves its unfinished file, outside the host's files).
 */
public record TreeSnapshot(Map<String, String> entries) {
    private static final List<String> OURS = List.of("run/vfio-orchestrator", "var/log/vfio-orchestrator",
            "var/lib/vfio-orchestrator", ".tree-writes" /* host.TreeHostFs.SCRATCH */);

    public static TreeSnapshot of(Path root) {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String rel = root.relativize(p).toString();
                boolean parentOfOurs = Files.isDirectory(p) && OURS.stream().anyMatch(o -> o.startsWith(rel + "/"));
                if (rel.isEmpty() || parentOfOurs || OURS.stream().anyMatch(rel::startsWith)) {
                    continue;
                }
                m.put(rel, describe(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TreeSnapshot(m);
    }

    /** A file's bytes; what links, directories and special files are (never read: a FIFO would block). */
    private static String describe(Path p) throws IOException {
        if (Files.isSymbolicLink(p)) {
            return "<symlink to " + Files.readSymbolicLink(p) + ">";
        }
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "<dir>";
        }
        if (!Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "<special file>";
        }
        return new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** This snapshot less one path (a file the test itself removed). */
    public TreeSnapshot without(String path) {
        Map<String, String> m = new TreeMap<>(entries);
        m.remove(path);
        return new TreeSnapshot(m);
    }

    /** The paths that differ, with a short description each; empty when identical. */
    public List<String> differences(TreeSnapshot other) {
        List<String> out = new ArrayList<>();
        for (var e : entries.entrySet()) {
            String theirs = other.entries.get(e.getKey());
            if (theirs == null) {
                out.add("missing now: " + e.getKey());
            } else if (!theirs.equals(e.getValue())) {
                out.add("changed: " + e.getKey() + ": '" + abbreviate(e.getValue()) + "' -> '" + abbreviate(theirs) + "'");
            }
        }
        for (String k : other.entries.keySet()) {
            if (!entries.containsKey(k)) {
                out.add("new: " + k);
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        String t = s.replace("\n", "\\n");
        return t.length() > 60 ? t.substring(0, 60) + "..." : t;
    }
}
