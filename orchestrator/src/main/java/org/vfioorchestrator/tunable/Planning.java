package org.vfioorchestrator.tunable;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.Unmovable;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.Profile;

/**
 * The plan being built, as each {@link Tunable} sees it: the VMs' profiles and the CPUs the host keeps and the
 * VMs get, and where a unit puts its changes (in apply order), unmovable items and warnings.
 */
public final class Planning {
    private final List<Profile> profiles;
    private final CpuSet hostCpus;
    private final CpuSet vmCpus;
    private final List<Change> changes = new ArrayList<>();
    private final List<Unmovable> unmovable = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    /** Every path the plan sets, whether or not it already holds the value. */
    private final Set<String> controlled = new TreeSet<>();

    public Planning(List<Profile> profiles, CpuSet hostCpus, CpuSet vmCpus) {
        this.profiles = List.copyOf(profiles);
        this.hostCpus = hostCpus;
        this.vmCpus = vmCpus;
    }

    public List<Profile> profiles() {
        return profiles;
    }

    /** The first VM's profile: host-wide settings (cgroups, workqueues, pass-through IRQs) are its. */
    public Profile first() {
        return profiles.get(0);
    }

    /** The CPUs the host keeps. */
    public CpuSet hostCpus() {
        return hostCpus;
    }

    /** The CPUs the VMs' vCPUs get. */
    public CpuSet vmCpus() {
        return vmCpus;
    }

    /** Sets a kernel file to {@code after}: a change unless it holds that value already ({@code before}, null if unknown). */
    public void write(ChangeKind kind, String path, String before, String after, ValueFormat format, String why) {
        controlled.add(path);
        if (before == null || !format.same(before, after)) {
            changes.add(new Change.WriteFile(kind, path, before == null ? "" : before, after, format, why));
        }
    }

    /** A change the plan makes; the caller says with {@link #controls} that it sets the path. */
    public void change(Change change) {
        changes.add(change);
    }

    /** The plan sets this path (a change, or a value that is already right). */
    public void controls(String path) {
        controlled.add(path);
    }

    public void unmovable(ChangeKind kind, String path, String what, String why) {
        unmovable.add(new Unmovable(kind, path, what, why));
    }

    public void warn(String warning) {
        warnings.add(warning);
    }

    /** The kernel prints masks as wide as nr_cpu_ids; a mask written there has the width of the one read. */
    public static String sameWidthMask(CpuSet cpus, String current) {
        return cpus.toMask(current.replace(",", "").length() * 4);
    }

    /** The plan built, for these VMs, its groups in this order. */
    public Plan toPlan(List<String> vms, List<ChangeKind> kinds) {
        return new Plan(vms, hostCpus, vmCpus, List.copyOf(changes), List.copyOf(unmovable), List.copyOf(warnings),
                Set.copyOf(controlled), List.copyOf(kinds));
    }
}
