package org.vfioorchestrator.tunable.cpuset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.tunable.Planning;

/**
 * The cpuset backend on cgroup v2 written directly: {@code +cpuset} in every cgroup.subtree_control from the
 * top down to the root, then cpuset.cpus of each child but libvirt's (machine.slice; machine without systemd); a
 * child holding a kept daemon (libvirtd) keeps every CPU and its other services are confined one by one instead.
 */
final class CgroupV2 {
    private CgroupV2() {
    }

    /**
     * The v2 subtree treated as "the host".
     *
     * @param root             the cgroup directory whose tasks are confined
     * @param subtreeControl   cgroup.subtree_control of the hierarchy's top down to the root, top first
     * @param children         each child cgroup's name and cpuset.cpus (absent until cpuset is enabled)
     * @param subgroups        each child's own children (e.g. system.slice's services) and their cpuset.cpus
     * @param childControllers each child's cgroup.subtree_control
     */
    record Tree(String root, Map<String, String> subtreeControl, Map<String, Optional<String>> children,
            Map<String, Map<String, Optional<String>>> subgroups, Map<String, String> childControllers)
            implements Cpusets.Confinement {
    }

    static Tree read(HostFs host, String root) {
        // +cpuset must be in the subtree_control of every cgroup from the top down to the root.
        List<String> chain = new ArrayList<>();
        String dir = root;
        while (true) {
            chain.add(0, dir);
            String parent = dir.substring(0, dir.lastIndexOf('/'));
            if (parent.isEmpty() || !host.exists(parent + "/cgroup.controllers")) {
                break;
            }
            dir = parent;
        }
        Map<String, String> subtree = new LinkedHashMap<>();
        for (String d : chain) {
            subtree.put(d, host.read(d + "/cgroup.subtree_control").orElse("").strip());
        }
        Map<String, Optional<String>> children = Cpusets.childCgroups(host, root);
        Map<String, Map<String, Optional<String>>> subgroups = new TreeMap<>();
        Map<String, String> childControllers = new TreeMap<>();
        for (String name : children.keySet()) {
            subgroups.put(name, Cpusets.childCgroups(host, root + "/" + name));
            childControllers.put(name, host.read(root + "/" + name + "/cgroup.subtree_control").orElse("").strip());
        }
        return new Tree(root, subtree, children, subgroups, childControllers);
    }

    static void plan(Tree cg, Cpusets.Settings settings, Planning plan) {
        String hostCpus = plan.hostCpus().toString();
        for (Map.Entry<String, String> e : cg.subtreeControl().entrySet()) {
            if (!KernelText.words(e.getValue()).contains("cpuset")) {
                plan.change(new Change.EnableController(Cpusets.KIND, e.getKey() + "/cgroup.subtree_control", "cpuset",
                        e.getValue(), "its children need the cpuset controller"));
            }
            plan.controls(e.getKey() + "/cgroup.subtree_control");
        }
        for (Map.Entry<String, Optional<String>> child : cg.children().entrySet()) {
            String dir = cg.root() + "/" + child.getKey();
            if (Cpusets.libvirtCgroup(child.getKey())) {
                plan.unmovable(Cpusets.KIND, dir, child.getKey(), Cpusets.MACHINE_SLICE_WHY);
                continue;
            }
            Map<String, Optional<String>> units = cg.subgroups().getOrDefault(child.getKey(), Map.of());
            List<String> kept = new ArrayList<>();
            for (String unit : units.keySet()) {
                if (keptUnit(unit, settings)) {
                    kept.add(unit);
                }
            }
            if (kept.isEmpty()) {
                plan.write(Cpusets.KIND, dir + "/cpuset.cpus", child.getValue().orElse(""), hostCpus, ValueFormat.CPU_LIST,
                        Cpusets.WHY);
                continue;
            }
            // libvirtd lives here and must keep the VM's CPUs: confine its siblings one by one instead.
            String controllers = cg.childControllers().getOrDefault(child.getKey(), "");
            plan.controls(dir + "/cgroup.subtree_control");
            if (!KernelText.words(controllers).contains("cpuset")) {
                plan.change(new Change.EnableController(Cpusets.KIND, dir + "/cgroup.subtree_control", "cpuset", controllers,
                        "its services need the cpuset controller"));
            }
            for (Map.Entry<String, Optional<String>> unit : units.entrySet()) {
                String unitDir = dir + "/" + unit.getKey();
                if (kept.contains(unit.getKey())) {
                    plan.unmovable(Cpusets.KIND, unitDir, unit.getKey(), Cpusets.KEPT_WHY);
                } else {
                    plan.write(Cpusets.KIND, unitDir + "/cpuset.cpus", unit.getValue().orElse(""), hostCpus,
                            ValueFormat.CPU_LIST, Cpusets.WHY);
                }
            }
        }
    }

    /** A systemd unit of a kept daemon: "libvirtd" keeps libvirtd.service (and its sockets' service). */
    private static boolean keptUnit(String unit, Cpusets.Settings settings) {
        for (String k : settings.keep()) {
            if (unit.equals(k + ".service")) {
                return true;
            }
        }
        return false;
    }
}
