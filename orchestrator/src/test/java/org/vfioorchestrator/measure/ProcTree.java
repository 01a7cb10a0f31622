package org.vfioorchestrator.measure;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A synthetic host tree (sys/, proc/, run/) for the sampler, whose counters the test
 * advances between reads. Written with java.nio directly: it is a fixture, not the host.
 */
final class ProcTree {
    final Path root;
    private final Map<Integer, long[]> counters = new HashMap<>(); // tid -> run, wait, slices, nonvoluntary
    private final Map<Integer, Integer> pidOf = new HashMap<>();
    private final Map<Integer, String> comm = new HashMap<>();
    private final Map<Integer, String> allowed = new HashMap<>();
    private final Map<Integer, Integer> processor = new HashMap<>();
    /** "irq:45" or "softirq:TIMER" -> counts of CPU0..CPU3 */
    private final Map<String, long[]> irqs = new TreeMap<>();
    private final Map<String, String> irqDesc = new HashMap<>();

    ProcTree(Path root) {
        this.root = root;
        write("sys/devices/system/cpu/online", "0-3\n");
        write("proc/sys/kernel/osrelease", "6.1.0-test-amd64\n");
    }

    void vm(String name, int pid) {
        write("run/libvirt/qemu/" + name + ".pid", pid + "\n");
    }

    void thread(int pid, int tid, String name, int cpu, String allowedList) {
        pidOf.put(tid, pid);
        comm.put(tid, name);
        allowed.put(tid, allowedList);
        processor.put(tid, cpu);
        counters.put(tid, new long[4]);
        rewrite(tid);
    }

    /** Adds to a thread's counters: ns run, ns waited, time slices, involuntary switches. */
    void advance(int tid, long run, long wait, long slices, long involuntary) {
        long[] c = counters.get(tid);
        c[0] += run;
        c[1] += wait;
        c[2] += slices;
        c[3] += involuntary;
        rewrite(tid);
    }

    void moveTo(int tid, int cpu) {
        processor.put(tid, cpu);
        rewrite(tid);
    }

    void removeProcess(int pid) {
        try (var walk = Files.walk(root.resolve("proc/" + pid))) {
            List<Path> paths = new ArrayList<>(walk.toList());
            Collections.reverse(paths);
            for (Path p : paths) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void rewrite(int tid) {
        int pid = pidOf.get(tid);
        String dir = "proc/" + pid + "/task/" + tid + "/";
        long[] c = counters.get(tid);
        write(dir + "comm", comm.get(tid) + "\n");
        String[] f = new String[50]; // fields 3..52
        java.util.Arrays.fill(f, "0");
        f[0] = "S";
        f[19] = Long.toString(1000 + tid); // starttime
        f[36] = Integer.toString(processor.get(tid)); // field 39: processor
        write(dir + "stat", tid + " (" + comm.get(tid) + ") " + String.join(" ", f) + "\n");
        write(dir + "schedstat", c[0] + " " + c[1] + " " + c[2] + "\n");
        write(dir + "status", "Name:\t" + comm.get(tid) + "\nPid:\t" + tid + "\nTgid:\t" + pid
                + "\nCpus_allowed:\tf\nCpus_allowed_list:\t" + allowed.get(tid)
                + "\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t" + c[3] + "\n");
    }

    void irq(String key, String desc) {
        irqs.put(key, new long[4]);
        irqDesc.put(key, desc);
        writeIrqs();
    }

    void addIrq(String key, int cpu, long n) {
        irqs.get(key)[cpu] += n;
        writeIrqs();
    }

    private void writeIrqs() {
        StringBuilder hard = new StringBuilder("           CPU0       CPU1       CPU2       CPU3       \n");
        StringBuilder soft = new StringBuilder("                    CPU0       CPU1       CPU2       CPU3       \n");
        for (Map.Entry<String, long[]> e : irqs.entrySet()) {
            boolean isSoft = e.getKey().startsWith("softirq:");
            String id = e.getKey().substring(e.getKey().indexOf(':') + 1);
            StringBuilder sb = isSoft ? soft : hard;
            sb.append(String.format("%" + (isSoft ? 12 : 4) + "s:", id));
            for (long n : e.getValue()) {
                sb.append(String.format(" %10d", n));
            }
            sb.append(isSoft ? "\n" : "  " + irqDesc.get(e.getKey()) + "\n");
        }
        hard.append(" ERR:          0\n MIS:          0\n");
        write("proc/interrupts", hard.toString());
        write("proc/softirqs", soft.toString());
    }

    void write(String rel, String content) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
