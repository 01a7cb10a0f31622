package org.vfioorchestrator.doctor;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vfioorchestrator.host.HostFs;

/**
 * A small host tree for doctor tests: {@code cores} SMT cores (CPU i and i+cores
 * are siblings), optional NUMA split and L3 groups, and the files the host checks
 * read, set to a clean state: cpufreq and cpuidle present, cgroup v2 with cpuset,
 * RT throttling on, ext4 root, no irqbalance, no kernel isolation parameters.
 */
final class TestHost {
    private static final String CPU = "/sys/devices/system/cpu";
    final Path root;

    private TestHost(Path root) {
        this.root = root;
    }

    /** One package, one NUMA node, one L3 group. */
    static TestHost smt(Path root, int cores) {
        return smt(root, cores, 1);
    }

    /** {@code groups} L3 groups of consecutive cores, each its own NUMA node. */
    static TestHost smt(Path root, int cores, int groups) {
        TestHost h = new TestHost(root);
        int n = cores * 2;
        h.file(CPU + "/present", "0-" + (n - 1));
        h.file(CPU + "/online", "0-" + (n - 1));
        h.file(CPU + "/possible", "0-" + (n - 1));
        int perGroup = cores / groups;
        for (int cpu = 0; cpu < n; cpu++) {
            int core = cpu % cores;
            int group = core / perGroup;
            String t = CPU + "/cpu" + cpu + "/topology/";
            h.file(t + "physical_package_id", "0");
            h.file(t + "die_id", "0");
            h.file(t + "core_id", Integer.toString(core));
            h.file(t + "thread_siblings_list", core + "," + (core + cores));
            String l3 = (group * perGroup) + "-" + (group * perGroup + perGroup - 1) + ","
                    + (group * perGroup + cores) + "-" + (group * perGroup + perGroup - 1 + cores);
            h.file(CPU + "/cpu" + cpu + "/cache/index3/level", "3");
            h.file(CPU + "/cpu" + cpu + "/cache/index3/type", "Unified");
            h.file(CPU + "/cpu" + cpu + "/cache/index3/shared_cpu_list", l3);
            h.file("/sys/devices/system/node/node" + group + "/cpulist", l3);
        }
        h.file(CPU + "/cpu0/cpufreq/scaling_governor", "schedutil");
        h.file(CPU + "/cpu0/cpuidle/state0/name", "POLL");
        h.file("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
        h.file("/proc/sys/kernel/sched_rt_runtime_us", "950000");
        h.file("/proc/mounts", "/dev/nvme0n1p2 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n");
        h.file("/proc/1/comm", "systemd");
        return h;
    }

    TestHost file(String hostPath, String content) {
        try {
            Path p = root.resolve(hostPath.substring(1));
            Files.createDirectories(p.getParent());
            Files.writeString(p, content.endsWith("\n") ? content : content + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A file of {@code size} bytes with nothing allocated (a hole). */
    TestHost sparse(String hostPath, long size) {
        try {
            Path p = root.resolve(hostPath.substring(1));
            Files.createDirectories(p.getParent());
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(size);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A file of {@code size} bytes, all written. */
    TestHost full(String hostPath, int size) {
        try {
            Path p = root.resolve(hostPath.substring(1));
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[size]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    TestHost delete(String hostPath) {
        try {
            Files.deleteIfExists(root.resolve(hostPath.substring(1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    HostFs fs() {
        return HostFs.open(root);
    }
}
