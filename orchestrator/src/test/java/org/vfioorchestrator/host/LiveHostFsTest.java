package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.testing.Requires;

/**
 * Thread affinity on this machine's running kernel, on threads this test starts (no root needed but for a
 * cpuset of the test's own): read from /proc/TID/status, set through libc, both checked against util-linux's
 * taskset, and the kernel's rules for a thread in a cpuset checked against the simulated kernel's.
 */
class LiveHostFsTest {
    private static final Path V1_CPUSET = Path.of("/sys/fs/cgroup/cpuset");
    private final HostFs live = HostFs.open(Path.of("/"));

    @Test
    void aNonLeaderThreadsAffinityIsWhatTasksetSaysBeforeAndAfterAPin() throws Exception {
        Requires.that(Files.exists(Path.of("/proc/thread-self/stat")), "needs Linux /proc");
        Requires.that(onPath("taskset"), "needs taskset (util-linux) as the oracle");
        try (OwnThread t = new OwnThread()) {
            CpuSet before = live.threadAffinity(t.tid);
            assertEquals(taskset(t.tid), before);
            Requires.that(before.size() >= 2, "needs a thread allowed on 2 CPUs or more to see a pin (has " + before + ")");
            CpuSet one = CpuSet.of(before.last());
            live.setThreadAffinity(t.tid, one);
            assertEquals(one, live.threadAffinity(t.tid));
            assertEquals(one, taskset(t.tid));
            live.setThreadAffinity(t.tid, before);
            assertEquals(before, taskset(t.tid));
        }
    }

    /**
     * sched_setaffinity of a thread in a cpuset (kernel/sched/core.c, __sched_setaffinity): the kernel sets the
     * request within the CPUs the cpuset allows and refuses a request outside them with EINVAL; once the cpuset
     * has the CPUs the thread asked for, the thread has them too. Checked on a process this test starts in a
     * cgroup v1 cpuset of its own, then in a tree of the same shape: TreeHostFs must answer as the kernel does,
     * since plans and tests trust what it answers.
     */
    @Test
    @Tag("root")
    void aPinOutsideTheThreadsCpusetIsRefusedAndOneAcrossItNarrowedHereAndInATree(@TempDir Path tree) throws Exception {
        Requires.root("it makes a cpuset of its own and starts a process in it");
        Requires.that(Files.exists(V1_CPUSET.resolve("tasks")), "needs a cgroup v1 cpuset hierarchy at " + V1_CPUSET);
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")).strip());
        Requires.that(online.size() >= 2, "needs 2 online CPUs or more (has " + online + ")");
        int inside = online.first();
        int outside = online.difference(CpuSet.of(inside)).first();
        String name = "vfio-affinity-probe-" + ProcessHandle.current().pid();
        Path cpuset = V1_CPUSET.resolve(name);
        Process sleep = null;
        try {
            Files.createDirectory(cpuset);
            Files.writeString(cpuset.resolve("cpuset.cpus"), Integer.toString(inside));
            Files.writeString(cpuset.resolve("cpuset.mems"), Files.readString(V1_CPUSET.resolve("cpuset.mems")).strip());
            // the shell moves itself into the cpuset, then becomes sleep: the process is ours and in it from the start
            sleep = new ProcessBuilder("sh", "-c", "echo $$ > \"$0/tasks\" && exec sleep 300", cpuset.toString()).start();
            int pid = (int) sleep.pid();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.readString(Path.of("/proc/" + pid + "/comm")).strip().equals("sleep") && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(List.of(Integer.toString(pid)), Files.readAllLines(cpuset.resolve("tasks")));

            String cpus = "/sys/fs/cgroup/cpuset/" + name + "/cpuset.cpus";
            Pins kernel = pins(live, pid, outside, online, cpus);
            assertEquals(new Pins(Errno.EINVAL, CpuSet.of(inside), CpuSet.of(inside), online), kernel, "this kernel: a pin to "
                    + outside + " outside the cpuset " + inside + ", then to " + online + ", then the cpuset widened to it");
            assertEquals(online, taskset(pid));

            TreeFiles.v1ThreadInCpuset(tree, online, name, CpuSet.of(inside), pid);
            assertEquals(kernel, pins(HostFs.open(tree), pid, outside, online, cpus), "the simulated kernel answers otherwise");
        } finally {
            if (sleep != null) {
                sleep.destroyForcibly();
                sleep.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(cpuset);
        }
    }

    /**
     * What became of a pin outside the cpuset (the error, the affinity after it), of one across it, and of that
     * one once the cpuset was widened to it.
     */
    private record Pins(Errno refusedWith, CpuSet afterRefused, CpuSet afterAcross, CpuSet afterWidened) {
    }

    private static Pins pins(HostFs host, int tid, int outside, CpuSet across, String cpusetCpus) {
        Errno refused = null;
        try {
            host.setThreadAffinity(tid, CpuSet.of(outside));
        } catch (HostIoException e) {
            refused = e.errno();
        }
        CpuSet afterRefused = host.threadAffinity(tid);
        host.setThreadAffinity(tid, across);
        CpuSet afterAcross = host.threadAffinity(tid);
        host.write(cpusetCpus, across.toString());
        return new Pins(refused, afterRefused, afterAcross, host.threadAffinity(tid));
    }

    @Test
    void aThreadThatEndedIsNoSuchProcess() throws Exception {
        Requires.that(Files.exists(Path.of("/proc/thread-self/stat")), "needs Linux /proc");
        int tid;
        try (OwnThread t = new OwnThread()) {
            tid = t.tid;
        }
        // join() returns when the Java thread is done; the kernel's thread goes a moment later
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(Path.of("/proc/self/task/" + tid)) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        HostIoException e = assertThrows(HostIoException.class, () -> live.threadAffinity(tid));
        assertEquals(Errno.ESRCH, e.errno());
    }

    /**
     * A pin in a fresh JVM, as the hook's started call makes one: libc's binding loads (on the
     * loader thread expectAffinityChanges starts) without running a process: JNA would otherwise
     * run /sbin/ldconfig -p to learn library paths, on every VM start.
     */
    @Test
    void aPinInAFreshJvmStartsNoProcess(@TempDir Path dir) throws Exception {
        Requires.that(Files.exists(Path.of("/proc/thread-self/stat")), "needs Linux /proc");
        Path log = dir.resolve("classes.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xshare:off", "-Xlog:class+load=info:file=" + log + ":none",
                "-cp", System.getProperty("java.class.path"), PinOwnThread.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the pin did not end");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("pinned to "), out);
        List<String> classes = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            classes.add(line.split(" ", 2)[0]);
        }
        assertTrue(classes.contains("com.sun.jna.Native"), "the pin went through JNA");
        assertFalse(classes.contains("java.lang.ProcessImpl"), "a process was started (JNA's ldconfig -p?)");
    }

    /**
     * A write to a kernel file that is not there says ENOENT, as the IRQ of a removed device must
     * (the hook then reports it gone), though java.io opens with O_CREAT, which sysfs answers with EACCES.
     */
    @Test
    void aWriteToAMissingSysfsFileIsEnoentAndCreatesNothing() {
        Requires.that(Files.isDirectory(Path.of("/sys/devices/system/cpu")), "needs Linux sysfs");
        HostFs live = HostFs.open(Path.of("/"));
        String missing = "/sys/devices/system/cpu/vfio-orchestrator-test-missing";
        HostIoException e = assertThrows(HostIoException.class, () -> live.write(missing, "1"));
        assertEquals(Errno.ENOENT, e.errno(), e.getMessage());
        assertFalse(Files.exists(Path.of(missing)));
    }

    /** What the hook's started call does to a QEMU thread, done to this JVM's main thread. */
    static final class PinOwnThread {
        public static void main(String[] args) {
            HostFs live = HostFs.open(Path.of("/"));
            live.expectAffinityChanges();
            int tid = live.callingThreadId();
            CpuSet now = live.threadAffinity(tid);
            live.setThreadAffinity(tid, now);
            System.out.println("pinned to " + now);
        }
    }

    private static CpuSet taskset(int tid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-p", "-c", Integer.toString(tid)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), out);
        // "pid 1234's current affinity list: 0-3"
        return CpuSet.parseList(out.substring(out.lastIndexOf(':') + 1).strip());
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A thread of this JVM (never its main thread), parked until closed, and its kernel thread id. */
    private static final class OwnThread implements AutoCloseable {
        final int tid;
        private final CountDownLatch stop = new CountDownLatch(1);
        private final Thread thread;

        OwnThread() throws InterruptedException {
            int[] id = new int[1];
            CountDownLatch started = new CountDownLatch(1);
            thread = new Thread(() -> {
                try {
                    String stat = Files.readString(Path.of("/proc/thread-self/stat"));
                    id[0] = Integer.parseInt(stat.substring(0, stat.indexOf(' ')));
                    started.countDown();
                    stop.await();
                } catch (IOException | InterruptedException e) {
                    started.countDown();
                }
            }, "LiveHostFsTest thread");
            thread.start();
            assertTrue(started.await(10, TimeUnit.SECONDS));
            tid = id[0];
            assertTrue(tid > 0 && tid != ProcessHandle.current().pid(), "a thread id of its own: " + tid);
        }

        @Override
        public void close() throws InterruptedException {
            stop.countDown();
            thread.join(10_000);
        }
    }
}
