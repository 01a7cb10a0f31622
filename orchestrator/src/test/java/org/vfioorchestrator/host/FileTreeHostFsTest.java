package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The java.io fast paths of reads and listings behave as the NIO ones did. */
class FileTreeHostFsTest {
    @TempDir
    Path dir;

    @Test
    void plainPathsAreJoinedAndTheRestNormalizedLikeResolve() {
        for (Path root : List.of(dir, Path.of("/"))) {
            FileTreeHostFs fs = (FileTreeHostFs) HostFs.open(root);
            for (String p : List.of("/proc", "/proc/irq/45/smp_affinity_list", "/a.b/c", "/a/.b", "/a/..b", "/a/b.",
                    "/a/./b", "/a/../b", "/a//b", "/a/b/", "/a/.", "/a/..", "/./a", "/", "/sys/fs/cgroup/machine-qemu\\x2d1.scope")) {
                assertEquals(fs.resolve(p).toString(), fs.resolveString(p), root + " " + p);
            }
            if (!root.toString().equals("/")) {
                assertThrows(IllegalArgumentException.class, () -> fs.resolveString("/../etc"), "leaves the tree");
            }
            assertThrows(IllegalArgumentException.class, () -> fs.resolveString("relative"));
            assertThrows(IllegalArgumentException.class, () -> fs.resolveString("/a\0b"));
        }
    }

    @Test
    void readsAndListsAsBefore() throws Exception {
        Files.createDirectories(dir.resolve("sys/dev"));
        Files.writeString(dir.resolve("sys/dev/file"), "1\n");
        Files.writeString(dir.resolve("sys/dev/b"), "");
        HostFs fs = HostFs.open(dir);
        assertEquals(Optional.of("1\n"), fs.read("/sys/dev/file"));
        assertEquals(Optional.of(""), fs.read("/sys/dev/b"));
        assertEquals(Optional.empty(), fs.read("/sys/dev/missing"));
        assertEquals(Optional.empty(), fs.read("/sys/dev/file/below"), "a file's child does not exist");
        HostIoException isDir = assertThrows(HostIoException.class, () -> fs.read("/sys/dev"));
        assertTrue(isDir.getMessage().contains("is a directory"), isDir.getMessage());
        assertEquals(List.of("b", "file"), fs.list("/sys/dev"));
        assertEquals(List.of(), fs.list("/sys/dev/file"));
        assertEquals(List.of(), fs.list("/sys/missing"));
        assertEquals(List.of("dev"), fs.list("/sys/dev/../"));
    }

    /** Writes go through java.io, which opens with O_CREAT: still, only files that exist are written, whole. */
    @Test
    void aWriteReplacesAFileThatExistsAndNothingElse() throws Exception {
        Files.createDirectories(dir.resolve("sys/dev"));
        Files.writeString(dir.resolve("sys/dev/file"), "0-31\n");
        Files.createSymbolicLink(dir.resolve("sys/dev/dangling"), dir.resolve("sys/dev/nowhere"));
        HostFs fs = HostFs.open(dir);
        fs.write("/sys/dev/file", "3");
        assertEquals("3\n", Files.readString(dir.resolve("sys/dev/file")), "truncated, not overwritten in place");
        for (String missing : List.of("/sys/dev/missing", "/sys/dev/dangling", "/sys/nodir/file")) {
            HostIoException e = assertThrows(HostIoException.class, () -> fs.write(missing, "1"), missing);
            assertEquals(Errno.ENOENT, e.errno(), missing);
        }
        assertEquals(List.of("dangling", "file"), fs.list("/sys/dev"), "nothing created");
        assertFalse(Files.exists(dir.resolve("sys/dev/nowhere")), "the link's target was not created");
        HostIoException isDir = assertThrows(HostIoException.class, () -> fs.write("/sys/dev", "1"));
        assertEquals(Errno.OTHER, isDir.errno());
        assertTrue(isDir.getMessage().contains("Is a directory"), isDir.getMessage());
    }

    @Test
    void hookCallsRacingToCreateTheStateDirectoryAndLogBothSucceed() throws Exception {
        HostFs fs = HostFs.open(dir);
        int threads = 8;
        for (int round = 0; round < 50; round++) {
            String state = "/run/vfio-orchestrator-" + round;
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<?>> calls = new java.util.ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    calls.add(pool.submit(() -> {
                        start.await();
                        fs.createPrivateDirectories(state);
                        fs.append(state + "/log/hook.log", "call " + id + "\n");
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> call : calls) {
                    call.get(); // rethrows what a call threw, e.g. EEXIST from a lost race
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(threads, Files.readAllLines(dir.resolve(state.substring(1) + "/log/hook.log")).size(), "round " + round);
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir.resolve(state.substring(1)))));
        }
    }

    @Test
    void aFileWhereTheStateDirectoryBelongsIsStillAnError() throws Exception {
        Files.createDirectories(dir.resolve("run"));
        Files.writeString(dir.resolve("run/vfio-orchestrator"), "not a directory");
        HostFs fs = HostFs.open(dir);
        HostIoException e = assertThrows(HostIoException.class, () -> fs.createPrivateDirectories("/run/vfio-orchestrator"));
        assertTrue(e.getMessage().contains("/run/vfio-orchestrator"), e.getMessage());
    }

    /** A killed write leaves its temp file behind: the next write removes it; a link planted there is refused. */
    @Test
    void anAtomicWriteReplacesALeftoverTempFileAndNeverWritesThroughALink() throws Exception {
        Path state = Files.createDirectories(dir.resolve("run/state"));
        HostFs fs = HostFs.open(dir);
        Files.writeString(state.resolve(".journal.json.tmp"), "half a jour");
        fs.replaceAtomically("/run/state/journal.json", "whole\n".getBytes());
        assertEquals("whole\n", Files.readString(state.resolve("journal.json")));
        assertEquals(List.of("journal.json"), fs.list("/run/state"), "the leftover is gone");

        Path other = Files.writeString(dir.resolve("other"), "keep\n");
        Files.createLink(state.resolve(".journal.json.tmp"), other);
        HostIoException e = assertThrows(HostIoException.class, () -> fs.replaceAtomically("/run/state/journal.json", "x".getBytes()));
        assertEquals("/run/state/.journal.json.tmp: is a hard link to another file (2 links); refusing to write through it."
                + " Remove it (rm " + state.resolve(".journal.json.tmp") + ") and try again", e.getMessage());
        assertEquals("keep\n", Files.readString(other));
        assertEquals("whole\n", Files.readString(state.resolve("journal.json")), "the old content stays");
    }

    /** A tree write replaces its file whole, as sysfs takes a value: a process killed mid-write leaves the old one. */
    @Test
    void aTreeWriteReplacesTheFileWholeNeverInPlace() throws Exception {
        Files.createDirectories(dir.resolve("sys/dev"));
        Path file = Files.writeString(dir.resolve("sys/dev/file"), "0-31\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        HostFs fs = HostFs.open(dir);
        try (java.io.InputStream openBefore = Files.newInputStream(file)) {
            fs.write("/sys/dev/file", "3");
            assertEquals("0-31\n", new String(openBefore.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                    "the file open before the write still holds the old value, whole");
        }
        assertEquals("3\n", Files.readString(file));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                "the file keeps its mode");
        assertEquals(List.of("file"), fs.list("/sys/dev"), "nothing left beside it");
    }
    /**
     * A call that changes several files (here an IRQ's two views) and the process killed in the middle: the next
     * TreeHostFs on the tree finishes it from the note the call left, as the kernel would have made it whole; a
     * note the process was killed writing is dropped; what the dead left in the scratch directory goes.
     */
    @Test
    void aCallAKilledProcessLeftHalfDoneIsFinishedByTheNextOpen() throws Exception {
        Files.createDirectories(dir.resolve("proc/irq/5"));
        Files.writeString(dir.resolve("proc/irq/5/smp_affinity"), "5\n"); // written: CPUs 0,2
        Files.writeString(dir.resolve("proc/irq/5/smp_affinity_list"), "0-3\n"); // not yet: the old value
        Files.createDirectories(dir.resolve("proc/irq/6"));
        Files.writeString(dir.resolve("proc/irq/6/smp_affinity"), "f\n");
        Files.writeString(dir.resolve("proc/irq/6/smp_affinity_list"), "0-3\n");
        Files.createDirectories(dir.resolve("sys/devices/system/cpu"));
        Files.writeString(dir.resolve("sys/devices/system/cpu/online"), "0-3\n");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long dead = gone.pid();
        Path scratch = Files.createDirectories(dir.resolve(TreeHostFs.SCRATCH.substring(1)));
        Files.writeString(scratch.resolve("call-" + dead + "-7"), "write\n/proc/irq/5/smp_affinity_list\n0,2\n");
        Files.writeString(scratch.resolve("call-" + dead + "-8"), "write\n/proc/irq/6/smp_affinity_list\n1"); // torn note
        Files.writeString(scratch.resolve("write-" + dead + "-6"), "0,");
        Files.writeString(scratch.resolve("call-1-1"), "write\n/proc/irq/6/smp_affinity_list\n1\n"); // PID 1 lives

        HostFs.open(dir);
        assertEquals("0,2\n", Files.readString(dir.resolve("proc/irq/5/smp_affinity_list")), "the call finished");
        assertEquals("5\n", Files.readString(dir.resolve("proc/irq/5/smp_affinity")));
        assertEquals("0-3\n", Files.readString(dir.resolve("proc/irq/6/smp_affinity_list")), "a torn note: never begun");
        assertEquals("f\n", Files.readString(dir.resolve("proc/irq/6/smp_affinity")));
        try (var left = Files.list(scratch)) {
            assertEquals(List.of("call-1-1"), left.map(p -> p.getFileName().toString()).toList(),
                    "the dead process's files gone, a live one's call left to it");
        }
    }
}
