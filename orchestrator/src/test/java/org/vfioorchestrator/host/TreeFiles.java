package org.vfioorchestrator.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vfioorchestrator.cpu.CpuSet;

/** Sets up and reads back a host tree's files directly, beside the simulated kernel under test. */
final class TreeFiles {
    private TreeFiles() {
    }

    /** Writes {@code content} as the kernel shows it: one trailing newline, none for an empty file. */
    static void write(Path root, String file, String content) throws IOException {
        Path p = root.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content.isEmpty() || content.endsWith("\n") ? content : content + "\n");
    }

    static String read(Path root, String file) {
        try {
            return Files.readString(root.resolve(file)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A cgroup v1 cpuset hierarchy on the CPUs {@code online}, with one cpuset {@code name} of the CPUs {@code cpus}
     * and in it a process {@code pid} of one thread, allowed on the cpuset's CPUs as the kernel leaves it there.
     */
    static void v1ThreadInCpuset(Path root, CpuSet online, String name, CpuSet cpus, int pid) throws IOException {
        write(root, "sys/devices/system/cpu/online", online.toString());
        String top = "sys/fs/cgroup/cpuset/";
        write(root, top + "cpuset.cpus", online.toString());
        write(root, top + "cpuset.mems", "0");
        write(root, top + "cgroup.procs", "1");
        write(root, top + "tasks", "1");
        write(root, top + name + "/cpuset.cpus", cpus.toString());
        write(root, top + name + "/cpuset.mems", "0");
        write(root, top + name + "/cgroup.procs", Integer.toString(pid));
        write(root, top + name + "/tasks", Integer.toString(pid));
        String stat = pid + " (sleep) S 1 " + pid + " " + pid + " 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0";
        String status = "Name:\tsleep\nTgid:\t" + pid + "\nPid:\t" + pid + "\nCpus_allowed:\t" + cpus.toMask(online.last() + 1)
                + "\nCpus_allowed_list:\t" + cpus;
        for (String dir : new String[] {"proc/" + pid, "proc/" + pid + "/task/" + pid}) {
            write(root, dir + "/stat", stat);
            write(root, dir + "/status", status);
        }
    }
}
