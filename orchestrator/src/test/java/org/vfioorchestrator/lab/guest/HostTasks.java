package org.vfioorchestrator.lab.guest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * The guest's processes and threads as /proc shows them, and the two checks of isolation: where each
 * host process may run ({@code Cpus_allowed_list}), and where host threads really ran while sampled.
 */
final class HostTasks {
    /** PF_KTHREAD in /proc/PID/stat's flags: kernel threads, which no cpuset confines on v2. */
    static final long PF_KTHREAD = 0x00200000L;

    private HostTasks() {
    }

    /** A user-space process: where it may run, its v2 cgroup path and its v1 cpuset. */
    record Task(int pid, String comm, CpuSet allowed, String cgroup, String cpuset) {
    }

    static List<Task> processes() {
        List<Task> tasks = new ArrayList<>();
        for (Path dir : KernelState.list(Path.of("/proc"))) {
            String name = dir.getFileName().toString();
            if (!name.chars().allMatch(Character::isDigit)) {
                continue;
            }
            Stat stat = Stat.of(dir.resolve("stat"));
            if (stat == null || (stat.flags & PF_KTHREAD) != 0) {
                continue;
            }
            String allowed = statusField(dir.resolve("status"), "Cpus_allowed_list");
            if (allowed == null) {
                continue; // ended meanwhile
            }
            String cgroup = KernelState.read(dir.resolve("cgroup")).orElse("");
            String v2 = "";
            for (String line : cgroup.split("\n")) {
                if (line.startsWith("0::")) {
                    v2 = line.substring(3);
                }
            }
            tasks.add(new Task(Integer.parseInt(name), stat.comm, CpuSet.parseList(allowed), v2,
                    KernelState.read(dir.resolve("cpuset")).orElse("")));
        }
        return tasks;
    }

    /**
     * Host processes that may run on a CPU outside {@code hostCpus}, one line each: every user-space
     * process but the stand-in VM's ({@code vmPids}).
     */
    static List<String> notConfined(CpuSet hostCpus, Set<Integer> vmPids) {
        List<String> lines = new ArrayList<>();
        for (Task t : processes()) {
            if (vmPids.contains(t.pid()) || t.allowed().isSubsetOf(hostCpus)) {
                continue;
            }
            lines.add("pid " + t.pid() + " (" + t.comm() + ", " + (t.cgroup().isEmpty() ? "cpuset " + t.cpuset() : t.cgroup())
                    + ") may run on " + t.allowed());
        }
        return lines;
    }

    /**
     * Samples every thread for {@code seconds}, every 100 ms: a user-space thread outside the VM whose
     * run time advanced and whose last CPU is one of {@code vmCpus} ran there. Returns one line per
     * such thread; unbound kernel threads that did are reported in {@code kernelThreads}.
     */
    static List<String> ranOnVmCpus(CpuSet vmCpus, Set<Integer> vmPids, double seconds, List<String> kernelThreads)
            throws InterruptedException {
        Map<Integer, Long> lastRun = new HashMap<>();
        Set<String> seen = new TreeSet<>();
        Set<String> kernel = new TreeSet<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        boolean first = true;
        while (System.nanoTime() < end) {
            for (Path proc : KernelState.list(Path.of("/proc"))) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || vmPids.contains(Integer.parseInt(name))) {
                    continue;
                }
                for (Path task : KernelState.list(proc.resolve("task"))) {
                    // run time first, then the CPU: a task waking between the two reads is then counted at its next
                    // sample, on the CPU it ran on, not now on the CPU it last slept on
                    String schedstat = KernelState.read(task.resolve("schedstat")).orElse("");
                    Stat st = Stat.of(task.resolve("stat"));
                    if (st == null) {
                        continue;
                    }
                    int tid = Integer.parseInt(task.getFileName().toString());
                    long ran = runNanos(schedstat, st);
                    Long before = lastRun.put(tid, ran);
                    if (!first && before != null && ran > before && vmCpus.contains(st.processor)) {
                        String line = st.comm + " (pid " + name + ", tid " + tid + ") ran on CPU " + st.processor;
                        if ((st.flags & PF_KTHREAD) != 0) {
                            // per-CPU kernel threads belong to their CPU; an unbound one there is worth a note
                            if (!st.perCpu) {
                                kernel.add(line);
                            }
                        } else {
                            seen.add(line);
                        }
                    }
                }
            }
            first = false;
            Thread.sleep(100);
        }
        kernelThreads.addAll(kernel);
        return new ArrayList<>(seen);
    }

    /** Run time in ns from schedstat (exact), else from stat's utime + stime (10 ms ticks). */
    private static long runNanos(String schedstat, Stat st) {
        int space = schedstat.indexOf(' ');
        if (space > 0) {
            return Long.parseLong(schedstat.substring(0, space));
        }
        return st.runTicks * 10_000_000L;
    }

    static String statusField(Path status, String field) {
        for (String line : KernelState.read(status).orElse("").split("\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).strip();
            }
        }
        return null;
    }

    /** The fields of /proc/PID[/task/TID]/stat the checks use. */
    static final class Stat {
        String comm;
        long flags;
        long runTicks;
        int processor;
        boolean perCpu;

        static Stat of(Path file) {
            String s = KernelState.read(file).orElse(null);
            if (s == null) {
                return null;
            }
            int open = s.indexOf('(');
            int close = s.lastIndexOf(')');
            if (open < 0 || close < open) {
                return null;
            }
            String[] f = s.substring(close + 2).split(" ");
            // f[0] is field 3 (state): field n is f[n - 3]
            Stat st = new Stat();
            st.comm = s.substring(open + 1, close);
            st.flags = Long.parseLong(f[9 - 3]);
            st.runTicks = Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3]);
            st.processor = Integer.parseInt(f[39 - 3]);
            st.perCpu = (st.flags & 0x04000000L) != 0; // PF_NO_SETAFFINITY
            return st;
        }
    }
}
