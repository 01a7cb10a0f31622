package org.vfioorchestrator.lab.guest;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.cli.Main;

/**
 * vfio-orchestrator inside the lab guest. {@link #process} runs it as a user does, a JVM per command
 * from the built jar; {@link #run} calls {@code Main.run} in this JVM, which is what the tests call and
 * spares an emulated guest a JVM start (seconds under TCG) where a scenario runs many commands.
 */
final class Tool {
    static final Path JAR = Path.of("/lab/vfio-orchestrator.jar");
    static final Path PROFILES = Path.of("/etc/vfio-orchestrator/profiles");
    static final Path JOURNAL = Path.of("/run/vfio-orchestrator/journal.json");
    /** Class data of the tool's classes, made once per boot: an emulated CPU starts the JVM twice as fast with it. */
    static final Path ARCHIVE = Path.of("/run/lab/vfio-orchestrator.jsa");

    private Tool() {
    }

    /** Runs a command in this JVM through Main.run, as the tests do. */
    static Guest.Out run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Guest.Out(code, out.toString(), err.toString());
    }

    /** Runs a command as a user does: its own JVM from the jar. */
    static Guest.Out process(String... args) {
        return Guest.run(600, command(args).toArray(String[]::new));
    }

    /**
     * 'install' as a user runs it; its class-data training run starts JVMs of its own, which an emulated
     * CPU runs twice as fast interpreted (JAVA_TOOL_OPTIONS reaches them too).
     */
    static Guest.Out install() {
        return Guest.run(java.util.Map.of("JAVA_TOOL_OPTIONS", "-Xint"), 900, command("install").toArray(String[]::new));
    }

    /** A JVM that runs {@code args} when {@link ArmedJvm#fire} says so: see {@link Armed}. */
    static ArmedJvm arm(String vm, String... args) throws IOException {
        List<String> cmd = jvm();
        // the jar first: the class-data archive was made with it alone, and a runtime class path may only add to that
        cmd.addAll(List.of("-cp", JAR + ":/lab/classes", Armed.class.getName(), vm));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new ArmedJvm(p);
    }

    /** An armed JVM: {@link #ready} waits until it has warmed up, {@link #fire} starts its command. */
    record ArmedJvm(Process process) {
        void ready() throws IOException {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream()));
            String line;
            while ((line = r.readLine()) != null && !line.equals("armed")) {
                // the warm-up's output, if any
            }
            if (line == null) {
                throw new AssertionError("the armed JVM ended before it was ready (exit " + process.exitValue() + ")");
            }
            // from here on its output is not read: discard it so it never blocks on a full pipe
            Thread drain = new Thread(() -> {
                try {
                    process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // killed: nothing more to read
                }
            });
            drain.setDaemon(true);
            drain.start();
        }

        void fire() throws IOException {
            process.getOutputStream().write('\n');
            process.getOutputStream().flush();
        }
    }

    /**
     * Makes the class-data archive from an apply of the lab's profile (the classes the kill points' JVMs
     * load), then reverts it in this JVM.
     */
    static String makeArchive() throws IOException {
        Files.createDirectories(ARCHIVE.getParent());
        List<String> cmd = new ArrayList<>(List.of("java", "-Xint", "-XX:+UseSerialGC", "-XX:ArchiveClassesAtExit=" + ARCHIVE,
                "-jar", JAR.toString(), "apply", "labvm"));
        Guest.Out o = Guest.run(600, cmd.toArray(String[]::new));
        Guest.Out revert = run("revert", "labvm");
        return "class-data archive: " + (Files.exists(ARCHIVE) ? "made" : "not made (" + o.both() + ")")
                + (revert.ok() ? "" : "; the training apply's revert exited " + revert.code() + ": " + revert.both());
    }

    private static List<String> command(String... args) {
        List<String> cmd = jvm();
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The JVM of a short command: an emulated CPU runs the interpreter faster than the JIT compilers for it. */
    private static List<String> jvm() {
        List<String> cmd = new ArrayList<>(List.of("java", "-Xint", "-XX:+UseSerialGC"));
        if (Files.exists(ARCHIVE)) {
            cmd.add("-XX:SharedArchiveFile=" + ARCHIVE);
        }
        return cmd;
    }

    /** Installs a profile where the hook and 'apply VM' look for it: root-owned, 0644, in 0755 directories. */
    static void profile(String vm, String yaml) throws IOException {
        for (Path d : List.of(PROFILES.getParent(), PROFILES)) {
            Files.createDirectories(d);
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path file = PROFILES.resolve(vm + ".yaml");
        Files.writeString(file, yaml);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Runs a command (in this JVM) that must exit 0. */
    static String must(String... args) {
        Guest.Out o = run(args);
        if (!o.ok()) {
            throw new AssertionError("vfio-orchestrator " + String.join(" ", args) + " exited " + o.code() + ":\n" + o.both());
        }
        return o.out();
    }
}
