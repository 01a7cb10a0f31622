package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.ProcStat;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * systemd realizes its units again whenever one starts or stops and at every daemon-reload, and then takes away
 * every cpuset no unit asked for (systemd issue 38547; the lab saw it on systemd 252). On the small systemd host:
 * the isolation applied through systemd's runtime AllowedCPUs holds through a daemon-reload and units starting,
 * while cpusets written into cgroupfs behind systemd's back (cgroups.mode: v2) are gone at the first reload.
 */
class SystemdRealizeTest {
    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();
    private static final CpuSet HOST_CPUS = CpuSet.parseList("0,4");
    /** PF_KTHREAD in /proc/PID/stat's flags: kernel threads, which no cpuset confines on cgroup v2. */
    private static final long PF_KTHREAD = 0x00200000L;

    @Test
    void throughSystemdTheIsolationHoldsThroughADaemonReloadAndUnitsStartingAndRevertIsByteIdentical() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile profile = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE);
        new Applier(plans, log::add).apply(profile, true);
        assertEquals(List.of(), escaped(host, List.of()), "applied");
        assertEquals(List.of(), vcpusOffTheirPins(host, profile), "applied");
        Systemd systemd = host.systemd().orElseThrow();

        systemd.reload();
        assertEquals(List.of(), escaped(host, List.of()), "after a daemon-reload");
        assertEquals(List.of(), vcpusOffTheirPins(host, profile), "after a daemon-reload");

        int service = startUnit(host, root, "/sys/fs/cgroup/system.slice/run-u42.service", 4242);
        int session = startUnit(host, root, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope", 4243);
        assertEquals(List.of(), escaped(host, List.of()), "after a transient service and a login session started");
        assertTrue(checked(host).containsKey(service) && checked(host).containsKey(session), "the new units' processes count");
        assertEquals(List.of(), vcpusOffTheirPins(host, profile), "after units started");

        stopUnit(host, root, "/sys/fs/cgroup/system.slice/run-u42.service", service);
        stopUnit(host, root, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope", session);
        assertEquals(List.of(), escaped(host, List.of()), "after they stopped");

        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of(), r.substituted(), "no cgroup systemd confined needed its parent's CPUs");
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    /**
     * The reason the systemd path exists: the same host with the cpusets written into cgroupfs directly. Isolated
     * after apply (but for libvirtd, which that mode keeps free), every host process may run on every CPU again
     * after systemd's next daemon-reload, silently; revert then finds the cpusets it wrote gone.
     */
    @Test
    void cgroupfsWrittenBehindSystemdsBackLosesTheIsolationAtTheNextDaemonReload() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.SYSTEMD), dir);
        TreeSnapshot before = TreeSnapshot.of(root);
        HostFs host = HostFs.open(root);
        PlanService plans = new PlanService(host);
        Profile profile = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE + "cgroups:\n  mode: v2\n");
        List<String> cpusets = plans.plan(List.of(profile)).changes().stream().map(Change::path)
                .filter(p -> p.endsWith("/cpuset.cpus")).sorted().toList();
        new Applier(plans, log::add).apply(profile, true);
        List<String> kept = List.of("libvirtd");
        assertEquals(List.of(), escaped(host, kept), "applied");
        assertEquals("cpuset cpu io memory pids", read(root, "sys/fs/cgroup/cgroup.subtree_control"));

        host.systemd().orElseThrow().reload();
        assertEquals("cpu io memory pids", read(root, "sys/fs/cgroup/cgroup.subtree_control"), "systemd took cpuset away");
        List<String> escaped = escaped(host, kept);
        Map<Integer, String> hostProcesses = checked(host);
        hostProcesses.values().removeIf(kept::contains);
        assertEquals(hostProcesses.size(), escaped.size(), "every host process: " + escaped);
        assertTrue(escaped.stream().allMatch(e -> e.endsWith(" may run on 0-7")), escaped.toString());
        assertTrue(escaped.stream().anyMatch(e -> e.matches("pid \\d+ \\(sshd, /system.slice/sshd.service\\) may run on 0-7")),
                escaped.toString());
        assertEquals(List.of(), vcpusOffTheirPins(host, profile), "the VM's threads keep their own pins");

        // revert finds the cpusets it wrote gone with the controller (their before-images were '', so nothing is lost)
        RevertReport r = new Reverter(plans, log::add).revert("small", false);
        assertTrue(r.complete(), r.toString());
        assertEquals(cpusets.stream().map(c -> c + ": no longer exists").toList(), r.gone().stream().sorted().toList());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));
    }

    /**
     * Host processes (user space, not the VM's QEMU, not among {@code kept}) that may run on a CPU outside the host
     * CPUs, one line each: where the kernel lets a task run is its own affinity within its cgroup's effective CPUs.
     */
    private static List<String> escaped(HostFs host, List<String> kept) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Integer, String> p : checked(host).entrySet()) {
            String cgroup = cgroupOf(host, p.getKey());
            CpuSet may = effective(host, p.getKey(), cgroup);
            if (!kept.contains(p.getValue()) && !may.isSubsetOf(HOST_CPUS)) {
                out.add("pid " + p.getKey() + " (" + p.getValue() + ", " + cgroup.substring("/sys/fs/cgroup".length()) + ") may run on "
                        + may);
            }
        }
        return out;
    }

    /** Every user-space process but the VM's QEMU: pid to its name. */
    private static Map<Integer, String> checked(HostFs host) {
        int qemu = QemuProcess.find(host, "small").orElseThrow().pid();
        Map<Integer, String> out = new TreeMap<>();
        for (String name : host.list("/proc")) {
            if (!KernelText.isNumber(name) || Integer.parseInt(name) == qemu) {
                continue;
            }
            ProcStat stat = ProcStat.parse(host.readRequired("/proc/" + name + "/stat"));
            if ((stat.flags() & PF_KTHREAD) == 0) {
                out.put(Integer.parseInt(name), stat.comm());
            }
        }
        return out;
    }

    /** vCPU threads whose CPUs, within their cgroup's, are not the one the profile pins them to. */
    private static List<String> vcpusOffTheirPins(HostFs host, Profile profile) {
        QemuProcess qemu = QemuProcess.find(host, "small").orElseThrow();
        String cgroup = cgroupOf(host, qemu.pid());
        List<String> out = new ArrayList<>();
        for (QemuThread t : qemu.threads(ThreadRole.VCPU)) {
            CpuSet may = effective(host, t.tid(), cgroup);
            CpuSet pin = CpuSet.of(profile.vcpuPins().get(t.index()));
            if (!may.equals(pin)) {
                out.add(t.name() + " may run on " + may + ", pinned to " + pin);
            }
        }
        return out;
    }

    /** The cgroup v2 directory whose cgroup.procs lists the process. */
    private static String cgroupOf(HostFs host, int pid) {
        List<String> dirs = new ArrayList<>(List.of("/sys/fs/cgroup"));
        for (int i = 0; i < dirs.size(); i++) {
            String d = dirs.get(i);
            if (KernelText.words(host.read(d + "/cgroup.procs").orElse("")).contains(Integer.toString(pid))) {
                return d;
            }
            for (String name : host.list(d)) {
                if (host.isDirectory(d + "/" + name) && host.exists(d + "/" + name + "/cgroup.procs")) {
                    dirs.add(d + "/" + name);
                }
            }
        }
        throw new AssertionError("pid " + pid + " is in no cgroup");
    }

    /** A task's own affinity within the effective CPUs of the nearest cgroup at or above its own with the cpuset controller. */
    private static CpuSet effective(HostFs host, int tid, String cgroup) {
        String d = cgroup;
        while (!host.exists(d + "/cpuset.cpus.effective")) {
            d = d.substring(0, d.lastIndexOf('/'));
        }
        return host.threadAffinity(tid).intersection(CpuSet.parseList(host.readRequired(d + "/cpuset.cpus.effective").strip()));
    }

    /**
     * systemd starting a unit while the VM runs: its cgroup made, a new process (a copy of sshd's, with every CPU)
     * put in it, and the units realized again.
     */
    private static int startUnit(HostFs host, Path root, String cgroup, int pid) throws IOException {
        String sshd = host.readRequired("/sys/fs/cgroup/system.slice/sshd.service/cgroup.procs").strip();
        Path from = root.resolve("proc/" + sshd);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path to = root.resolve("proc/" + pid).resolve(from.relativize(f).toString().replace(sshd, Integer.toString(pid)));
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.writeString(to, Files.readString(f).replace(sshd + " (sshd)", pid + " (sshd)")
                            .replace("Tgid:\t" + sshd + "\n", "Tgid:\t" + pid + "\n").replace("\nPid:\t" + sshd + "\n", "\nPid:\t" + pid + "\n"));
                }
            }
        }
        host.mkdir(cgroup);
        host.write(cgroup + "/cgroup.procs", Integer.toString(pid));
        host.systemd().orElseThrow().reload();
        return pid;
    }

    /** The unit's process exits (the kernel drops it from its cgroup), systemd removes the cgroup and realizes again. */
    private static void stopUnit(HostFs host, Path root, String cgroup, int pid) throws IOException {
        try (Stream<Path> files = Files.walk(root.resolve("proc/" + pid))) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
        Files.writeString(root.resolve(cgroup.substring(1) + "/cgroup.procs"), "");
        host.rmdir(cgroup);
        host.systemd().orElseThrow().reload();
    }

    private static String read(Path root, String file) throws IOException {
        return Files.readString(root.resolve(file)).strip();
    }
}
