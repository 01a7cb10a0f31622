package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * A tree has no hidden /proc/TID for a thread that leads no process: TreeHostFs finds it under
 * /proc/PID/task/, through the task directories listed so far or a scan of /proc.
 */
class TreeHostFsThreadsTest {
    @TempDir
    Path root;

    private void thread(int pid, int tid, String cpus) throws IOException {
        Path dir = root.resolve("proc/" + pid + "/task/" + tid);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("status"), "Name:\tt" + tid + "\nCpus_allowed:\tff\nCpus_allowed_list:\t" + cpus + "\n");
        Files.writeString(dir.resolve("stat"), tid + " (t" + tid + ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n");
    }

    @Test
    void aThreadIsFoundByScanningOrThroughItsListedProcessAndFollowedWhenItMoves() throws IOException {
        thread(100, 100, "0-7");
        thread(100, 101, "1");
        thread(200, 200, "0-7");
        thread(200, 201, "2");
        HostFs host = HostFs.open(root);

        assertEquals(CpuSet.of(2), host.threadAffinity(201), "nothing listed yet: found by the scan");
        assertEquals(java.util.List.of("100", "101"), host.list("/proc/100/task"));
        assertEquals(CpuSet.of(1), host.threadAffinity(101), "found through the listing");
        assertEquals(CpuSet.of(0, 1, 2, 3, 4, 5, 6, 7), host.threadAffinity(100), "a leader, by its own directory");

        host.setThreadAffinity(101, CpuSet.of(3));
        assertEquals("Cpus_allowed_list:\t3", Files.readAllLines(root.resolve("proc/100/task/101/status")).get(2));

        // the thread's directory went and one with its id is under another process now: the stale entry is rescanned
        deleteTree(root.resolve("proc/100/task/101"));
        thread(200, 101, "5");
        assertEquals(CpuSet.of(5), host.threadAffinity(101));

        deleteTree(root.resolve("proc/200/task/101"));
        HostIoException gone = assertThrows(HostIoException.class, () -> host.threadAffinity(101));
        assertEquals(Errno.ESRCH, gone.errno());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
