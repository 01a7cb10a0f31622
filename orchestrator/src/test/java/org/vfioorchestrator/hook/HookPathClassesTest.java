package org.vfioorchestrator.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hook call loads, in a fresh JVM as libvirt starts it: the bundled example VM's prepare,
 * started and release on a copy of the example host. Each kind of class named here costs a hook
 * call milliseconds in a JVM that lives for one call (BENCHMARKS.md, speed), so the hook path does
 * without them (DEVELOPERS.md); this test keeps it so.
 */
class HookPathClassesTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));

    /** Class name prefix or part, and why the hook path must not load it. */
    private static final Map<String, String> FORBIDDEN = new LinkedHashMap<>();

    static {
        FORBIDDEN.put("$$Lambda", "a lambda or method reference (linking the first costs about 13 ms, each further one more)");
        FORBIDDEN.put("java.util.stream.", "a stream pipeline (about 60 classes, and lambdas)");
        FORBIDDEN.put("java.util.regex.", "a regular expression (about 10 ms to start the engine)");
        FORBIDDEN.put("org.yaml.snakeyaml.", "SnakeYAML, for a profile in plain block YAML (profile/PlainYaml reads it)");
        FORBIDDEN.put("com.fasterxml.", "jackson-jr (the journal has its own codec, apply/JournalJson)");
        FORBIDDEN.put("javax.xml.", "the JDK's XML parser (domain/XmlParser reads the domain XML)");
        FORBIDDEN.put("picocli.", "the CLI (cli/Entry sends 'hook' straight to HookMain)");
        FORBIDDEN.put("java.time.format.", "DateTimeFormatter (apply/UtcTime formats time stamps)");
    }

    @Test
    void aHookCallLoadsNoLambdasStreamsRegexOrLibraryParsers(@TempDir Path dir) throws Exception {
        Path host = dir.resolve("host");
        Process cp = new ProcessBuilder("cp", "-a", REPO.resolve("examples/hosts/gaming-rig").toString(), host.toString())
                .inheritIO().start();
        assertEquals(0, cp.waitFor(), "cp -a of the example host");
        Path profile = host.resolve("etc/vfio-orchestrator/profiles/win11.yaml");
        Files.createDirectories(profile.getParent());
        // no background measurement: it would start a JVM of its own
        Files.writeString(profile, Files.readString(REPO.resolve("examples/profiles/win11.yaml"))
                .replace("after_start: true", "after_start: false"));
        Files.setPosixFilePermissions(profile, PosixFilePermissions.fromString("rw-r--r--"));

        Map<String, List<String>> found = new LinkedHashMap<>();
        int loaded = 0;
        for (String phase : List.of("prepare begin", "started begin", "release end")) {
            List<String> classes = hookCall(host, phase.split(" "), dir.resolve(phase.replace(' ', '-') + ".classes"));
            loaded += classes.size();
            for (String c : classes) {
                for (String bad : FORBIDDEN.keySet()) {
                    if (c.contains(bad)) {
                        found.computeIfAbsent(FORBIDDEN.get(bad), k -> new ArrayList<>()).add(phase + ": " + c);
                    }
                }
            }
        }
        assertTrue(loaded > 1000, "the three calls ran and their classes were listed: " + loaded);
        assertEquals(Map.of(), found, "classes a hook call should not load, by why not");
    }

    /** The classes one hook call loads, in the order it loads them. */
    private static List<String> hookCall(Path host, String[] op, Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xshare:off", "-Xlog:class+load=info:file=" + log + ":none",
                "-cp", System.getProperty("java.class.path"), "org.vfioorchestrator.cli.Entry",
                "hook", "--host-root", host.toString(), "win11", op[0], op[1], "-")
                .redirectInput(REPO.resolve("examples/domains/win11.xml").toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(log.resolveSibling(log.getFileName() + ".err").toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "hook " + String.join(" ", op) + " did not end");
        assertEquals(0, p.exitValue(), () -> "hook " + String.join(" ", op) + " failed: "
                + readQuietly(log.resolveSibling(log.getFileName() + ".err")));
        List<String> classes = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            classes.add(line.split(" ", 2)[0]);
        }
        return classes;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(" + e + ")";
        }
    }
}
