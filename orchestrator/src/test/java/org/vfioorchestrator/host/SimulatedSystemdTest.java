package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * The simulated systemd does to a tree what the lab saw systemd 252 do on a real kernel
 * (lab/LabTest: "systemd: runtime AllowedCPUs on the host's slices, set and reset" and "a +cpuset
 * written behind its back is gone after daemon-reload").
 */
class SimulatedSystemdTest {
    @TempDir
    Path root;
    HostFs host;
    Systemd systemd;

    @BeforeEach
    void systemdHost() throws IOException {
        write("run/systemd/system/.keep", "");
        write("sys/devices/system/cpu/online", "0-3");
        write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids");
        write("sys/fs/cgroup/cgroup.subtree_control", "memory pids");
        write("sys/fs/cgroup/cgroup.procs", "");
        write("sys/fs/cgroup/cpuset.cpus.effective", "0-3");
        for (String unit : new String[] {"init.scope", "system.slice", "user.slice", "machine.slice"}) {
            write("sys/fs/cgroup/" + unit + "/cgroup.controllers", "memory pids");
            write("sys/fs/cgroup/" + unit + "/cgroup.subtree_control", "");
            write("sys/fs/cgroup/" + unit + "/cgroup.procs", unit.equals("machine.slice") ? "" : "1" + unit.length());
        }
        host = HostFs.open(root);
        systemd = host.systemd().orElseThrow();
    }

    @Test
    void runtimeAllowedCpusConfineThroughADropInAndSurviveAReload() throws IOException {
        TreeSnapshot before = TreeSnapshot.of(root);
        systemd.setRuntimeProperty("system.slice", "AllowedCPUs", "0-1");
        systemd.setRuntimeProperty("user.slice", "AllowedCPUs", "0-1");

        assertEquals("cpuset memory pids", read("sys/fs/cgroup/cgroup.subtree_control"));
        assertEquals("0-1", read("sys/fs/cgroup/system.slice/cpuset.cpus"));
        assertEquals("0-1", read("sys/fs/cgroup/system.slice/cpuset.cpus.effective"));
        assertEquals("", read("sys/fs/cgroup/machine.slice/cpuset.cpus"), "a unit without AllowedCPUs keeps every CPU");
        assertEquals("# This is a drop-in unit file extension, created via \"systemctl set-property\"\n"
                + "# or an equivalent operation. Do not edit.\n[Slice]\nAllowedCPUs=\nAllowedCPUs=0-1",
                read("run/systemd/system.control/system.slice.d/50-AllowedCPUs.conf"));
        assertEquals("0-1", systemd.property("system.slice", "AllowedCPUs"));

        systemd.reload();
        assertEquals("0-1", read("sys/fs/cgroup/user.slice/cpuset.cpus"), "a daemon-reload keeps runtime properties");

        // reset: systemd drops cpuset where no unit needs it, which takes every cpuset file away
        systemd.setRuntimeProperty("system.slice", "AllowedCPUs", "");
        systemd.setRuntimeProperty("user.slice", "AllowedCPUs", "");
        assertEquals("memory pids", read("sys/fs/cgroup/cgroup.subtree_control"));
        assertFalse(Files.exists(root.resolve("sys/fs/cgroup/system.slice/cpuset.cpus")));
        assertEquals("", systemd.property("system.slice", "AllowedCPUs"));

        // the drop-ins (reset lines now) are what is left; without them the tree is as before
        Files.delete(root.resolve("run/systemd/system.control/system.slice.d/50-AllowedCPUs.conf"));
        Files.delete(root.resolve("run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf"));
        Files.delete(root.resolve("run/systemd/system.control/system.slice.d"));
        Files.delete(root.resolve("run/systemd/system.control/user.slice.d"));
        Files.delete(root.resolve("run/systemd/system.control"));
        systemd.reload();
        assertEquals(java.util.List.of(), before.differences(TreeSnapshot.of(root)));
    }

    @Test
    void aCpusetWrittenBehindItsBackIsGoneAfterADaemonReload() {
        host.write("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset");
        host.write("/sys/fs/cgroup/system.slice/cpuset.cpus", "0-1");
        systemd.reload();
        assertEquals("memory pids", read("sys/fs/cgroup/cgroup.subtree_control"));
        assertFalse(Files.exists(root.resolve("sys/fs/cgroup/system.slice/cpuset.cpus")));
    }

    @Test
    void aTreeWithoutSystemdHasNone() throws IOException {
        Files.delete(root.resolve("run/systemd/system/.keep"));
        Files.delete(root.resolve("run/systemd/system"));
        assertTrue(HostFs.open(root).systemd().isEmpty());
    }

    private void write(String file, String content) throws IOException {
        TreeFiles.write(root, file, content);
    }

    private String read(String file) {
        return TreeFiles.read(root, file);
    }
}
