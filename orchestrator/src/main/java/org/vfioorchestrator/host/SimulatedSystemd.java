package org.vfioorchestrator.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * systemd on a host tree, doing to the tree's cgroups what the lab saw the real one do
 * (lab/LabTest, systemd 252 on kernels 6.1 and 6.12):
 * <ul>
 * <li>{@code set-property --runtime UNIT AllowedCPUs=LIST} writes the drop-in {@code
 * /run/systemd/system.control/UNIT.d/50-AllowedCPUs.conf} (a reset line, then the value) and realizes;
 * <li>realizing enables cpuset in the {@code subtree_control} of every cgroup above a unit with
 * AllowedCPUs, and removes it everywhere else, whoever wrote it (so a cpuset written behind its back
 * is gone), then writes each unit's cpuset.cpus; a populated cgroup refusing '' (ENOSPC) is logged by
 * systemd and left, as here;
 * <li>{@code daemon-reload} realizes again.
 * </ul>
 * Only AllowedCPUs is known. The real systemd keeps a perpetual unit's property (init.scope) in memory
 * without a drop-in; here every unit gets its drop-in, because a tree has no daemon to remember it.
 */
final class SimulatedSystemd implements Systemd {
    private static final String CGROUP = "/sys/fs/cgroup";
    private static final String PROPERTY = "AllowedCPUs";
    private final TreeHostFs fs;

    SimulatedSystemd(TreeHostFs fs) {
        this.fs = fs;
    }

    @Override
    public java.util.Map<String, String> properties(java.util.List<String> units, String name) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String unit : units) {
            out.put(unit, property(unit, name));
        }
        return out;
    }

    @Override
    public String property(String unit, String name) {
        String value = "";
        for (String line : fs.read(Systemd.dropIn(unit, name)).orElse("").split("\n")) {
            if (line.startsWith(name + "=")) {
                value = line.substring(name.length() + 1).strip(); // the last assignment wins, as in a unit file
            }
        }
        return value;
    }

    @Override
    public void setRuntimeProperty(String unit, String name, String value) {
        if (!name.equals(PROPERTY)) {
            throw new HostIoException("systemctl set-property " + unit, Errno.EINVAL, "the simulated systemd knows only " + PROPERTY);
        }
        String text = "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n"
                + "# or an equivalent operation. Do not edit.\n[" + section(unit) + "]\n" + name + "=\n" + name + "=" + value + "\n";
        Path file = fs.resolve(Systemd.dropIn(unit, name));
        // the daemon finishes what it was asked whatever becomes of the caller
        fs.asOneCall(List.of("set-property", unit, name, value), () -> {
            try {
                Files.createDirectories(file.getParent());
            } catch (IOException e) {
                throw new HostIoException(Systemd.dropIn(unit, name), Errno.fromMessage(e.getMessage()),
                        String.valueOf(e.getMessage()));
            }
            fs.createWhole(Systemd.dropIn(unit, name), text); // systemd writes its drop-ins atomically
            realize();
        });
    }

    @Override
    public void reload() {
        fs.asOneCall(List.of("daemon-reload"), this::realize);
    }

    private static String section(String unit) {
        String type = unit.substring(unit.lastIndexOf('.') + 1);
        return Character.toUpperCase(type.charAt(0)) + type.substring(1);
    }

    /** Brings the cgroup tree in line with the units' AllowedCPUs (cgroup v2 only: systemd has no cpuset on v1). */
    private void realize() {
        if (!fs.exists(CGROUP + "/cgroup.controllers")) {
            return;
        }
        List<String> cgroups = fs.cgroupsUnder(CGROUP); // parents before children
        Map<String, String> allowed = new LinkedHashMap<>(); // cgroup -> AllowedCPUs
        for (String dir : fs.list(Systemd.CONTROL)) {
            if (dir.endsWith(".d") && fs.exists(Systemd.CONTROL + "/" + dir + "/50-" + PROPERTY + ".conf")) {
                String unit = dir.substring(0, dir.length() - 2);
                String cgroup = cgroupOf(unit, cgroups);
                if (cgroup != null) {
                    allowed.put(cgroup, property(unit, PROPERTY));
                }
            }
        }
        for (String dir : cgroups) { // enable top down
            if (needsCpuset(dir, allowed) && !hasCpuset(dir)) {
                fs.write(dir + "/cgroup.subtree_control", "+cpuset");
            }
        }
        for (int i = cgroups.size() - 1; i >= 0; i--) { // disable bottom up: a parent cannot while a child has it
            String dir = cgroups.get(i);
            if (!needsCpuset(dir, allowed) && hasCpuset(dir)) {
                fs.write(dir + "/cgroup.subtree_control", "-cpuset");
            }
        }
        for (String dir : cgroups) {
            if (!dir.equals(CGROUP) && isUnit(dir) && fs.exists(dir + "/cpuset.cpus")) {
                try {
                    fs.write(dir + "/cpuset.cpus", allowed.getOrDefault(dir, ""));
                } catch (HostIoException e) {
                    if (e.errno() != Errno.ENOSPC) {
                        throw e;
                    }
                    // systemd logs the kernel's refusal to clear a populated cpuset and carries on
                }
            }
        }
    }

    private boolean needsCpuset(String dir, Map<String, String> allowed) {
        for (Map.Entry<String, String> e : allowed.entrySet()) {
            if (!e.getValue().isEmpty() && e.getKey().startsWith(dir + "/")) {
                return true;
            }
        }
        return false;
    }

    private boolean hasCpuset(String dir) {
        return KernelText.words(fs.read(dir + "/cgroup.subtree_control").orElse("")).contains("cpuset");
    }

    private static boolean isUnit(String dir) {
        String name = dir.substring(dir.lastIndexOf('/') + 1);
        return name.endsWith(".slice") || name.endsWith(".scope") || name.endsWith(".service") || name.endsWith(".mount")
                || name.endsWith(".socket") || name.endsWith(".swap");
    }

    /** The cgroup of a unit: the shallowest directory of that name (slices nest, units are unique). */
    private static String cgroupOf(String unit, List<String> cgroups) {
        String found = null;
        for (String dir : cgroups) {
            if (dir.endsWith("/" + unit) && (found == null || depth(dir) < depth(found))) {
                found = dir;
            }
        }
        return found;
    }

    private static long depth(String dir) {
        return dir.chars().filter(c -> c == '/').count();
    }
}
