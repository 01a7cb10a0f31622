package org.vfioorchestrator.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.vfioorchestrator.hook.HookMain;
import org.vfioorchestrator.host.HostFs;

/**
 * The training run behind {@code vfio-orchestrator cds-archive [FILE]}: the launcher runs it
 * under {@code -XX:ArchiveClassesAtExit=FILE}, so the JVM writes every class a hook call loads,
 * already parsed and verified, into a class-data-sharing archive that later hook calls map
 * instead of loading classes from the jar.
 *
 * <p>It runs the hook's phases ({@code prepare}, {@code started}, {@code reconnect},
 * {@code release}) for VM win11 on a private copy of the bundled example host
 * ({@code examples/hosts/gaming-rig}, carried in the jar), and pins its own thread on the
 * running kernel to the CPUs it already has, so the live host's classes (JNA's) are in too.
 * Nothing outside a temporary directory is written, and no other thread or process is touched.
 */
final class CdsTraining {
    static final String COMMAND = "cds-training";
    static final String RESOURCE = "cds-training.tar.gz";

    private CdsTraining() {
    }

    static int run(PrintStream errStream) {
        PrintWriter err = new PrintWriter(new OutputStreamWriter(errStream, StandardCharsets.UTF_8), true);
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vfio-orchestrator-cds-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (InputStream in = CdsTraining.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    err.println("vfio-orchestrator cds-archive: " + RESOURCE + " is missing from the jar; rebuild it with mvn package");
                    return 4;
                }
                untar(new GZIPInputStream(in), dir);
            }
            Path host = dir.resolve("host");
            Path profile = host.resolve("etc/vfio-orchestrator/profiles/win11.yaml");
            Files.createDirectories(profile.getParent());
            // no background measurement: it would start a JVM of its own
            Files.writeString(profile, Files.readString(dir.resolve("win11.yaml")).replace("after_start: true", "after_start: false"));
            Files.setPosixFilePermissions(profile, PosixFilePermissions.fromString("rw-r--r--"));
            byte[] xml = Files.readAllBytes(dir.resolve("win11.xml"));
            for (String phase : List.of("prepare begin", "started begin", "reconnect begin", "release end")) {
                String[] op = phase.split(" ");
                int code = HookMain.run(err, new ByteArrayInputStream(xml),
                        List.of("--host-root", host.toString(), "win11", op[0], op[1], "-"));
                if (code != 0) {
                    err.println("vfio-orchestrator cds-archive: the training hook call '" + phase + "' failed (exit " + code + ")");
                    return 4;
                }
            }
            // this thread pinned where it already runs, on the live host: JNA's classes, loaded as the hook loads them
            HostFs live = HostFs.open(Path.of("/"));
            live.expectAffinityChanges();
            int tid = live.callingThreadId();
            live.setThreadAffinity(tid, live.threadAffinity(tid));
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("vfio-orchestrator cds-archive: training run failed: " + e);
            return 4;
        } finally {
            if (dir != null) {
                deleteTree(dir);
            }
        }
    }

    /** A plain ustar reader for our own resource: regular files and directories, paths inside {@code into}. */
    static void untar(InputStream in, Path into) throws IOException {
        byte[] header = new byte[512];
        while (in.readNBytes(header, 0, 512) == 512) {
            if (header[0] == 0) {
                return; // the end-of-archive blocks
            }
            String name = field(header, 0, 100);
            String prefix = field(header, 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            long size = Long.parseLong(field(header, 124, 12).strip().isEmpty() ? "0" : field(header, 124, 12).strip(), 8);
            Path target = into.resolve(name).normalize();
            if (name.startsWith("/") || !target.startsWith(into)) {
                throw new IOException("tar entry outside the directory: " + name);
            }
            char type = (char) header[156];
            if (type == '5') {
                Files.createDirectories(target);
            } else if (type == '0' || type == 0) {
                Files.createDirectories(target.getParent());
                Files.write(target, in.readNBytes((int) size));
                long pad = (512 - size % 512) % 512;
                in.readNBytes((int) pad);
                continue;
            } else {
                throw new IOException("unexpected tar entry type '" + type + "': " + name);
            }
            in.readNBytes((int) ((size + 511) / 512 * 512));
        }
    }

    private static String field(byte[] header, int from, int length) {
        int end = from;
        while (end < from + length && header[end] != 0) {
            end++;
        }
        return new String(header, from, end - from, StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
