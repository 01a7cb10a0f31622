package org.vfioorchestrator.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What the tool would do for a set of running VMs, in the order it would do it.
 *
 * @param vms      the VMs this plan isolates
 * @param hostCpus the CPUs the host keeps
 * @param vmCpus   the CPUs the VMs' vCPUs get
 * @param controlled every path the plan sets, whether or not it already holds the value
 * @param kinds    the groups of changes, in the order they are shown (the tunables' order)
 */
public record Plan(List<String> vms, CpuSet hostCpus, CpuSet vmCpus, List<Change> changes, List<Unmovable> unmovable,
        List<String> warnings, Set<String> controlled, List<ChangeKind> kinds) {

    /** True when the plan sets this path (a change, or a value that is already right). */
    public boolean controls(String path) {
        return controlled.contains(path);
    }

    public List<Change> changes(ChangeKind kind) {
        List<Change> out = new ArrayList<>();
        for (Change c : changes) {
            if (c.kind().equals(kind)) {
                out.add(c);
            }
        }
        return out;
    }

    public List<Unmovable> unmovable(ChangeKind kind) {
        List<Unmovable> out = new ArrayList<>();
        for (Unmovable u : unmovable) {
            if (u.kind().equals(kind)) {
                out.add(u);
            }
        }
        return out;
    }
}
