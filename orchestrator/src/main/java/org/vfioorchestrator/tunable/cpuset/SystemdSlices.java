package org.vfioorchestrator.tunable.cpuset;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.tunable.Planning;

/**
 * The cpuset backend through systemd, which owns the v2 tree: runtime AllowedCPUs on each unit at its top but
 * machine.slice, so the confinement outlives a daemon-reload, a new unit or a restart (systemd rewrites
 * cgroup.subtree_control when it realizes a unit, and a {@code +cpuset} written behind its back goes).
 */
final class SystemdSlices {

    private SystemdSlices() {
    }

    /** The units at the top of systemd's tree (init.scope, system.slice, user.slice, ...), but machine.slice. */
    record Units(String root, Map<String, Unit> units) implements Cpusets.Confinement {
    }

    /**
     * A systemd unit at the top of the cgroup tree.
     *
     * @param allowedCpus its AllowedCPUs as systemd shows it ('' for every CPU)
     * @param dropIn      the runtime drop-in that holds it, if there is one now (its exact text)
     */
    record Unit(String allowedCpus, Optional<String> dropIn) {
    }

    static Units read(HostFs host, Systemd systemd) {
        List<String> names = new ArrayList<>();
        for (String name : Cpusets.childCgroups(host, Cpusets.V2_MOUNT).keySet()) {
            if ((name.endsWith(".slice") || name.endsWith(".scope")) && !name.equals(Cpusets.MACHINE_SLICE)) {
                names.add(name);
            }
        }
        // one systemctl for all of them: each call is a process the hook pays for
        Map<String, String> allowed = names.isEmpty() ? Map.of() : systemd.properties(names, Cpusets.ALLOWED_CPUS);
        Map<String, Unit> units = new TreeMap<>();
        for (String name : names) {
            units.put(name, new Unit(allowed.get(name), host.read(Systemd.dropIn(name, Cpusets.ALLOWED_CPUS))));
        }
        return new Units(Cpusets.V2_MOUNT, units);
    }

    static void plan(Units found, Planning plan) {
        String hostCpus = plan.hostCpus().toString();
        for (Map.Entry<String, Unit> u : found.units().entrySet()) {
            Unit unit = u.getValue();
            Change.SetUnitProperty change = new Change.SetUnitProperty(Cpusets.KIND, u.getKey(), Cpusets.ALLOWED_CPUS, unit.allowedCpus(),
                    hostCpus, unit.dropIn().orElse(null), Cpusets.WHY);
            plan.controls(change.path());
            if (!ValueFormat.CPU_LIST.same(unit.allowedCpus(), hostCpus)) {
                plan.change(change);
            }
        }
        plan.unmovable(Cpusets.KIND, found.root() + "/" + Cpusets.MACHINE_SLICE, Cpusets.MACHINE_SLICE,
                Cpusets.MACHINE_SLICE_WHY);
    }
}
