package org.vfioorchestrator.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.RecordingHostFs;
import org.vfioorchestrator.plan.HostSnapshotReader;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;

/**
 * Copies the files this tool reads from a host into a folder, so that the
 * folder works as {@code --host-root} for plan, topology and doctor: for bug
 * reports and tests. It reads exactly what the planner reads (through a
 * recording view), so it never goes stale; it holds no environments or
 * command lines of processes.
 */
public final class HostCapture {
    /** Files the planner does not read but doctor, measure and reports do. */
    private static final List<String> EXTRA = List.of("/proc/cmdline", "/proc/version", "/proc/mounts", "/proc/softirqs",
            "/proc/sys/kernel/random/boot_id", "/proc/sys/kernel/sched_rt_runtime_us",
            "/proc/sys/kernel/osrelease");

    private HostCapture() {
    }

    /** Captures into {@code out} (must not exist or be empty); returns the number of files written. */
    public static int capture(HostFs host, List<String> vms, Path out) {
        try {
            if (Files.exists(out)) {
                try (Stream<Path> s = Files.list(out)) {
                    if (s.findAny().isPresent()) {
                        throw OrchestratorException.data(out + ": not empty; capture into a new folder");
                    }
                }
            }
            RecordingHostFs rec = new RecordingHostFs(host);
            Topology topology = TopologyReader.read(rec);
            new HostSnapshotReader(rec).readEverything(topology, vms);
            // what profile validation reads besides the topology: the governors each CPU offers
            HostFacts facts = new HostFacts(rec, topology);
            for (int cpu : topology.online().toList()) {
                facts.governorsOffered(cpu);
            }
            EXTRA.forEach(rec::read);
            if (host.systemd().isPresent()) {
                cgroupTree(rec, "/sys/fs/cgroup");
            }
            Files.createDirectories(out);
            for (String dir : rec.directories()) {
                Files.createDirectories(target(out, dir));
            }
            int n = 0;
            for (String file : rec.files()) {
                if (host.isDirectory(file)) {
                    continue;
                }
                var content = host.read(file);
                if (content.isEmpty()) {
                    continue; // vanished since it was read (a process exited)
                }
                Path t = target(out, file);
                Files.createDirectories(t.getParent());
                Files.write(t, content.get().getBytes(StandardCharsets.UTF_8));
                n++;
            }
            return n;
        } catch (IOException e) {
            throw OrchestratorException.data(out + ": cannot write the capture: " + e.getMessage());
        }
    }

    /**
     * The cgroup v2 tree as systemd manages it, which a plan through systemd does not read but the
     * simulated systemd of a tree acts on (controllers, tasks, cpusets of every cgroup).
     */
    private static void cgroupTree(RecordingHostFs rec, String dir) {
        if (!rec.exists(dir + "/cgroup.controllers")) {
            return;
        }
        for (String file : CGROUP_FILES) {
            rec.read(dir + "/" + file);
        }
        for (String name : rec.list(dir)) {
            if (rec.isDirectory(dir + "/" + name)) {
                cgroupTree(rec, dir + "/" + name);
            }
        }
    }

    private static final List<String> CGROUP_FILES = List.of("cgroup.controllers", "cgroup.subtree_control", "cgroup.procs",
            "cpuset.cpus", "cpuset.cpus.effective", "cpuset.cpus.partition", "cpuset.mems", "cpuset.mems.effective");

    private static Path target(Path out, String hostPath) {
        return out.resolve(hostPath.substring(1));
    }
}
