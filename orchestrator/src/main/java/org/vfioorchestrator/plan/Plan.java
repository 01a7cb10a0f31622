package org.vfioorchestrator.plan;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What the tool would do for a set of running VMs, in the order it would do it.
 *
 * @param vms      the VMs this plan isolates
 * @param hostCpus the CPUs the host keeps
 * @param vmCpus   the CPUs the VMs' vCPUs get
 */
public record Plan(List<String> vms, CpuSet hostCpus, CpuSet vmCpus, List<Change> changes, List<Unmovable> unmovable,
        List<String> warnings) {

    public List<Change> changes(ChangeKind kind) {
        return changes.stream().filter(c -> c.kind() == kind).toList();
    }

    public List<Unmovable> unmovable(ChangeKind kind) {
        return unmovable.stream().filter(u -> u.kind() == kind).toList();
    }
}
