package org.vfioorchestrator.lab.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything of the lab guest's kernel and systemd state that an apply may change and a revert must
 * put back, read with plain file reads and systemctl (never through the tool under test), as a
 * sorted map from a readable key to its value, so two snapshots compare as maps.
 *
 * <p>What it holds: every cgroup's cpuset files and {@code cgroup.subtree_control} (v2), every v1
 * cpuset with its cpus and mems and which cpuset each process is in, systemd's view of the slices and
 * services ({@code AllowedCPUs}, {@code EffectiveCPUs}) and its runtime drop-ins, each IRQ's affinity
 * and the default, the workqueue masks, and where each process may run ({@code Cpus_allowed_list}).
 */
public final class KernelState {
    static final Path CGROUP = Path.of("/sys/fs/cgroup");
    static final Path V1_CPUSET = CGROUP.resolve("cpuset");

    private KernelState() {
    }

    /** cgroup v2 when the unified hierarchy is mounted at /sys/fs/cgroup itself. */
    static boolean unified() {
        return unified(Path.of("/"));
    }

    private static boolean unified(Path root) {
        return Files.exists(under(root, CGROUP).resolve("cgroup.controllers"));
    }

    /** The running guest's state: its kernel files, systemd's view and its processes. */
    static SortedMap<String, String> read() {
        SortedMap<String, String> s = quick();
        systemd(s);
        return s;
    }

    /**
     * All but what only systemctl tells (each call starts a process, seconds in an emulated guest): the
     * kernel files, systemd's drop-ins and the processes. For checks repeated in a loop.
     */
    static SortedMap<String, String> quick() {
        SortedMap<String, String> s = files(Path.of("/"));
        dropIns(s);
        processes(s);
        return s;
    }

    /**
     * The kernel files alone (cgroups, IRQs, workqueues) under {@code root}: "/" for this kernel, or a
     * host tree such as a capture of it, so the simulated kernel's results compare with the real one's.
     */
    public static SortedMap<String, String> files(Path root) {
        SortedMap<String, String> s = new TreeMap<>();
        if (unified(root)) {
            cgroupsV2(root, s);
        } else {
            cgroupsV1(root, s);
        }
        irqs(root, s);
        workqueues(root, s);
        return s;
    }

    private static Path under(Path root, Path absolute) {
        return root.resolve(absolute.toString().substring(1));
    }

    /**
     * Where two snapshots differ, one line each. Processes that started or ended in between, and v2
     * cgroups that exist in only one of them (systemd makes and removes those for its own units), are not
     * differences: the files of a cgroup in both are, a cpuset file that appeared or went included.
     */
    static List<String> diff(Map<String, String> before, Map<String, String> after) {
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, String> e : before.entrySet()) {
            if (libvirts(e.getKey())) {
                continue;
            }
            String now = after.get(e.getKey());
            if (now == null) {
                if (!comesAndGoes(e.getKey(), after)) {
                    lines.add(e.getKey() + ": was '" + e.getValue() + "', now absent");
                }
            } else if (!now.equals(e.getValue())) {
                lines.add(e.getKey() + ": was '" + e.getValue() + "', now '" + now + "'");
            }
        }
        for (Map.Entry<String, String> e : after.entrySet()) {
            if (!before.containsKey(e.getKey()) && !comesAndGoes(e.getKey(), before)) {
                lines.add(e.getKey() + ": absent before, now '" + e.getValue() + "'");
            }
        }
        return lines;
    }

    /**
     * What libvirt sets up for its VMs and leaves so: the cgroups below machine.slice and the controllers
     * systemd enabled in machine.slice for them (v2; machine.slice's cpuset files are compared), its cpusets
     * for VMs (v1).
     */
    private static boolean libvirts(String key) {
        return key.startsWith("cgroup2 /machine.slice/") || key.equals("cgroup2 /machine.slice cgroup.subtree_control")
                || key.startsWith("cpuset /machine");
    }

    /**
     * Whether {@code key}, found in one snapshot only, may appear or disappear without the tool, given the
     * {@code other} snapshot: a process, a service's systemd view, a libvirt cgroup, or a file of a v2 cgroup
     * that is not in the other (every v2 cgroup has a cgroup.subtree_control).
     */
    public static boolean comesAndGoes(String key, Map<String, String> other) {
        if (key.startsWith("cgroup2 ")) {
            return libvirts(key) || !other.containsKey(key.substring(0, key.lastIndexOf(' ')) + " cgroup.subtree_control");
        }
        return key.startsWith("proc ") || key.startsWith("unit ") || libvirts(key);
    }

    private static void cgroupsV2(Path root, SortedMap<String, String> s) {
        Path top = under(root, CGROUP);
        for (Path dir : dirs(top)) {
            String name = dir.equals(top) ? "/" : "/" + top.relativize(dir);
            for (String file : List.of("cgroup.subtree_control", "cpuset.cpus", "cpuset.cpus.partition",
                    "cpuset.cpus.effective", "cpuset.mems")) {
                read(dir.resolve(file)).ifPresent(v -> s.put("cgroup2 " + name + " " + file, v));
            }
        }
    }

    private static void cgroupsV1(Path root, SortedMap<String, String> s) {
        Path top = under(root, V1_CPUSET);
        for (Path dir : dirs(top)) {
            String name = dir.equals(top) ? "/" : "/" + top.relativize(dir);
            // the v1 cpuset hierarchy is the tool's alone (systemd does not manage it): its cgroups must match exactly
            s.put("cpuset " + name, "exists");
            for (String file : List.of("cpuset.cpus", "cpuset.mems", "cpuset.cpu_exclusive")) {
                read(dir.resolve(file)).ifPresent(v -> s.put("cpuset " + name + " " + file, v));
            }
        }
    }

    private static void systemd(SortedMap<String, String> s) {
        List<String> units = new ArrayList<>(List.of("-.slice", "init.scope", "system.slice", "user.slice", "machine.slice"));
        units.addAll(Guest.runningServices());
        for (Map.Entry<String, Map<String, String>> u : Guest.unitProperties(units, "AllowedCPUs", "EffectiveCPUs").entrySet()) {
            String unit = u.getKey();
            for (Map.Entry<String, String> p : u.getValue().entrySet()) {
                s.put((unit.endsWith(".service") ? "unit " : "systemd ") + unit + " " + p.getKey(), p.getValue());
            }
        }
    }

    private static void dropIns(SortedMap<String, String> s) {
        Path control = Path.of("/run/systemd/system.control");
        for (Path f : regularFiles(control)) {
            s.put("systemd drop-in " + control.relativize(f), read(f).orElse("?"));
        }
    }

    private static void irqs(Path root, SortedMap<String, String> s) {
        Path irq = under(root, Path.of("/proc/irq"));
        for (Path dir : list(irq)) {
            read(dir.resolve("smp_affinity_list")).ifPresent(v -> s.put("irq " + dir.getFileName() + " smp_affinity_list", v));
        }
        read(irq.resolve("default_smp_affinity")).ifPresent(v -> s.put("irq default_smp_affinity", v));
    }

    private static void workqueues(Path root, SortedMap<String, String> s) {
        Path wq = under(root, Path.of("/sys/devices/virtual/workqueue"));
        read(wq.resolve("cpumask")).ifPresent(v -> s.put("workqueue cpumask", v));
        for (Path dir : list(wq)) {
            read(dir.resolve("cpumask")).ifPresent(v -> s.put("workqueue " + dir.getFileName() + " cpumask", v));
        }
    }

    private static void processes(SortedMap<String, String> s) {
        for (HostTasks.Task t : HostTasks.processes()) {
            s.put("proc " + t.pid() + " " + t.comm() + " Cpus_allowed_list", t.allowed().toString());
            if (!unified()) {
                s.put("proc " + t.pid() + " " + t.comm() + " cpuset", t.cpuset());
            }
        }
    }

    static java.util.Optional<String> read(Path file) {
        try {
            return java.util.Optional.of(Files.readString(file).strip());
        } catch (IOException | UncheckedIOException e) {
            return java.util.Optional.empty();
        }
    }

    private static List<Path> dirs(Path top) {
        try (Stream<Path> walk = Files.walk(top)) {
            return walk.filter(Files::isDirectory).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(); // a cgroup removed while we walked
        }
    }

    private static List<Path> regularFiles(Path top) {
        try (Stream<Path> walk = Files.walk(top)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    static List<Path> list(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(Files::isDirectory).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }
}
