package org.vfioorchestrator.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.plan.Change.EnableController;
import org.vfioorchestrator.plan.Change.MakeCgroup;
import org.vfioorchestrator.plan.Change.MoveProcesses;
import org.vfioorchestrator.plan.Change.PinThread;
import org.vfioorchestrator.plan.Change.WriteFile;
import org.vfioorchestrator.plan.HostSnapshot.CgroupVersion;
import org.vfioorchestrator.plan.HostSnapshot.Cgroups;
import org.vfioorchestrator.plan.HostSnapshot.CpuPower;
import org.vfioorchestrator.plan.HostSnapshot.IdleState;
import org.vfioorchestrator.plan.HostSnapshot.Irq;
import org.vfioorchestrator.plan.HostSnapshot.Proc;
import org.vfioorchestrator.plan.HostSnapshot.RunningVm;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.Profile.CStateMethod;
import org.vfioorchestrator.profile.Profile.PassthroughIrqs;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.topology.Topology;

/**
 * Computes the changes that isolate a set of VMs on a host. Pure: the same
 * snapshot and profiles always give the same plan, and nothing is touched.
 *
 * <p>With several VMs the host keeps the CPUs every profile leaves it (the
 * intersection of their {@code host_cpus}), and the VMs' vCPU CPUs must not overlap.
 */
public final class Planner {
    /** The v1 cpuset the host's processes are moved into. */
    public static final String V1_HOST_CPUSET = "vfio-host";
    /** libvirt's slice for VMs: it must keep the VMs' CPUs or QEMU cannot be pinned. */
    static final String MACHINE_SLICE = "machine.slice";
    /** The systemd property that confines a unit's processes to CPUs. */
    static final String ALLOWED_CPUS = "AllowedCPUs";

    private Planner() {
    }

    /** The CPUs the host keeps while these VMs run: the online CPUs every profile gives the host. */
    static CpuSet hostCpus(Topology topology, List<Profile> profiles) {
        CpuSet hostCpus = topology.online();
        for (Profile p : profiles) {
            hostCpus = hostCpus.intersection(p.hostCpus());
        }
        return hostCpus;
    }

    /** The CPUs these VMs' vCPUs run on together. */
    static CpuSet vmCpus(List<Profile> profiles) {
        CpuSet vmCpus = CpuSet.empty();
        for (Profile p : profiles) {
            vmCpus = vmCpus.union(p.vmCpus());
        }
        return vmCpus;
    }

    /** What of the host a plan for these profiles reads: see {@link HostSnapshotReader.Scope}. */
    public static HostSnapshotReader.Scope readScope(Topology topology, List<Profile> profiles) {
        CpuSet idleStateCpus = CpuSet.empty();
        for (Profile p : profiles) {
            if (p.cstates().method() == CStateMethod.DISABLE_STATES) {
                idleStateCpus = idleStateCpus.union(p.vmCpus());
            }
        }
        return new HostSnapshotReader.Scope(vmCpus(profiles), idleStateCpus, hostCpus(topology, profiles));
    }

    public static Plan plan(HostSnapshot host, List<Profile> profiles) {
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("a plan needs at least one profile");
        }
        checkNoOverlap(profiles);
        CpuSet hostCpus = hostCpus(host.topology(), profiles);
        CpuSet vmCpus = vmCpus(profiles);
        if (hostCpus.isEmpty()) {
            throw OrchestratorException.data("the profiles of " + names(profiles)
                    + " leave the host no CPU (their host_cpus do not overlap); give them a common host CPU");
        }
        Builder b = new Builder(host, hostCpus, vmCpus);
        b.cgroups(profiles.get(0));
        for (Profile p : profiles) {
            b.threads(p);
        }
        b.irqs(profiles);
        b.workqueues(profiles.get(0));
        for (Profile p : profiles) {
            b.governor(p);
        }
        for (Profile p : profiles) {
            b.cstates(p);
        }
        b.irqbalanceWarning();
        return new Plan(Profile.vmsOf(profiles), hostCpus, vmCpus, List.copyOf(b.changes),
                List.copyOf(b.unmovable), List.copyOf(b.warnings), java.util.Set.copyOf(b.controlled));
    }

    private static void checkNoOverlap(List<Profile> profiles) {
        for (int i = 0; i < profiles.size(); i++) {
            for (int j = i + 1; j < profiles.size(); j++) {
                CpuSet both = profiles.get(i).vmCpus().intersection(profiles.get(j).vmCpus());
                if (!both.isEmpty()) {
                    throw OrchestratorException.state("VM " + profiles.get(j).vm() + " wants CPU " + both
                            + ", which VM " + profiles.get(i).vm() + " already has (" + profiles.get(i).source()
                            + "); give the two VMs different vCPU CPUs");
                }
            }
        }
    }

    private static String names(List<Profile> profiles) {
        return String.join(", ", Profile.vmsOf(profiles));
    }

    /** Accumulates changes in apply order. */
    private static final class Builder {
        final HostSnapshot host;
        final CpuSet hostCpus;
        final CpuSet vmCpus;
        final List<Change> changes = new ArrayList<>();
        final List<Unmovable> unmovable = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();
        /** Every path the plan sets, whether or not it already holds the value. */
        final java.util.Set<String> controlled = new java.util.TreeSet<>();

        Builder(HostSnapshot host, CpuSet hostCpus, CpuSet vmCpus) {
            this.host = host;
            this.hostCpus = hostCpus;
            this.vmCpus = vmCpus;
        }

        private void write(ChangeKind kind, String path, String before, String after, ValueFormat format, String why) {
            controlled.add(path);
            if (before == null || !format.same(before, after)) {
                changes.add(new WriteFile(kind, path, before == null ? "" : before, after, format, why));
            }
        }

        void cgroups(Profile p) {
            Cgroups cg = host.cgroups();
            if (cg.version() == CgroupVersion.NONE) {
                warnings.add("processes are not confined to the host CPUs: " + cg.why());
                return;
            }
            String why = "host processes run on the host CPUs only";
            if (cg.version() == CgroupVersion.SYSTEMD) {
                systemdUnits(cg, why);
                return;
            }
            if (cg.version() == CgroupVersion.V2) {
                for (Map.Entry<String, String> e : cg.subtreeControl().entrySet()) {
                    if (!KernelText.words(e.getValue()).contains("cpuset")) {
                        changes.add(new EnableController(e.getKey() + "/cgroup.subtree_control", "cpuset", e.getValue(),
                                "its children need the cpuset controller"));
                    }
                    controlled.add(e.getKey() + "/cgroup.subtree_control");
                }
                for (Map.Entry<String, Optional<String>> child : cg.children().entrySet()) {
                    String dir = cg.root() + "/" + child.getKey();
                    if (child.getKey().equals(MACHINE_SLICE)) {
                        unmovable.add(new Unmovable(ChangeKind.CPUSET, dir, MACHINE_SLICE,
                                "libvirt's VMs run here; it keeps every CPU so QEMU can be pinned"));
                        continue;
                    }
                    Map<String, Optional<String>> units = cg.subgroups().getOrDefault(child.getKey(), Map.of());
                    List<String> kept = new ArrayList<>();
                    for (String unit : units.keySet()) {
                        if (keptUnit(unit, p)) {
                            kept.add(unit);
                        }
                    }
                    if (kept.isEmpty()) {
                        write(ChangeKind.CPUSET, dir + "/cpuset.cpus", child.getValue().orElse(""), hostCpus.toString(),
                                ValueFormat.CPU_LIST, why);
                        continue;
                    }
                    // libvirtd lives here and must keep the VM's CPUs: confine its siblings one by one instead.
                    String controllers = cg.childControllers().getOrDefault(child.getKey(), "");
                    controlled.add(dir + "/cgroup.subtree_control");
                    if (!KernelText.words(controllers).contains("cpuset")) {
                        changes.add(new EnableController(dir + "/cgroup.subtree_control", "cpuset", controllers,
                                "its services need the cpuset controller"));
                    }
                    for (Map.Entry<String, Optional<String>> unit : units.entrySet()) {
                        String unitDir = dir + "/" + unit.getKey();
                        if (kept.contains(unit.getKey())) {
                            unmovable.add(new Unmovable(ChangeKind.CPUSET, unitDir, unit.getKey(),
                                    "kept with every CPU (cgroups.keep): libvirt must be able to give QEMU the VM's CPUs"));
                        } else {
                            write(ChangeKind.CPUSET, unitDir + "/cpuset.cpus", unit.getValue().orElse(""), hostCpus.toString(),
                                    ValueFormat.CPU_LIST, why);
                        }
                    }
                }
                return;
            }
            String hostDir = cg.root() + "/" + V1_HOST_CPUSET;
            boolean exists = cg.children().containsKey(V1_HOST_CPUSET);
            controlled.add(hostDir);
            controlled.add(hostDir + "/cgroup.procs");
            if (!exists) {
                changes.add(new MakeCgroup(hostDir, "a cpuset for the host's processes"));
            }
            write(ChangeKind.CPUSET, hostDir + "/cpuset.mems",
                    exists ? cg.hostCpusetMems() : null, cg.rootMems(), ValueFormat.CPU_LIST, "a cpuset needs memory nodes before it takes tasks");
            write(ChangeKind.CPUSET, hostDir + "/cpuset.cpus",
                    exists ? cg.children().get(V1_HOST_CPUSET).orElse("") : null, hostCpus.toString(), ValueFormat.CPU_LIST, why);
            List<Integer> movable = new ArrayList<>();
            for (Proc proc : cg.processes()) {
                if (proc.perCpuKernelThread()) {
                    unmovable.add(new Unmovable(ChangeKind.CPUSET, "/proc/" + proc.pid(), proc.comm(),
                            "per-CPU kernel thread: the kernel does not let it move"));
                } else if (p.cgroups().keep().contains(proc.comm()) || proc.comm().startsWith("qemu-system")) {
                    unmovable.add(new Unmovable(ChangeKind.CPUSET, "/proc/" + proc.pid(), proc.comm(),
                            "kept with every CPU (cgroups.keep): libvirt must be able to give QEMU the VM's CPUs"));
                } else {
                    movable.add(proc.pid());
                }
            }
            if (!movable.isEmpty()) {
                changes.add(new MoveProcesses(cg.root(), hostDir, List.copyOf(movable), why));
            }
        }

        /**
         * Through systemd, which owns the v2 tree: runtime AllowedCPUs on each unit at its top but
         * machine.slice, so the confinement outlives a daemon-reload, a new unit or a restart.
         */
        private void systemdUnits(Cgroups cg, String why) {
            for (Map.Entry<String, HostSnapshot.SystemdUnit> u : cg.units().entrySet()) {
                HostSnapshot.SystemdUnit unit = u.getValue();
                Change.SetUnitProperty change = new Change.SetUnitProperty(u.getKey(), ALLOWED_CPUS, unit.allowedCpus(),
                        hostCpus.toString(), unit.dropIn().orElse(null), why);
                controlled.add(change.path());
                if (!ValueFormat.CPU_LIST.same(unit.allowedCpus(), hostCpus.toString())) {
                    changes.add(change);
                }
            }
            unmovable.add(new Unmovable(ChangeKind.CPUSET, cg.root() + "/" + MACHINE_SLICE, MACHINE_SLICE,
                    "libvirt's VMs run here; it keeps every CPU so QEMU can be pinned"));
        }

        /** A systemd unit of a kept daemon: "libvirtd" keeps libvirtd.service (and its sockets' service). */
        private static boolean keptUnit(String unit, Profile p) {
            for (String k : p.cgroups().keep()) {
                if (unit.equals(k + ".service")) {
                    return true;
                }
            }
            return false;
        }

        void threads(Profile p) {
            RunningVm vm = host.running().get(p.vm());
            if (vm == null) {
                return;
            }
            boolean tcg = vm.qemu().tcg();
            for (QemuThread t : vm.qemu().threads()) {
                CpuSet now = vm.affinity().get(t.tid());
                if (now == null) {
                    continue;
                }
                CpuSet target = p.cpusFor(t.role(), t.index(), tcg);
                if (target == null) {
                    warnings.add(p.vm() + ": QEMU has vCPU " + t.index() + " but the profile pins only "
                            + p.vcpuPins().size() + " vCPUs; it is left where it is");
                    continue;
                }
                String why = switch (t.role()) {
                    case VCPU -> "vCPU " + t.index() + " of " + p.vm();
                    case IOTHREAD -> "iothread " + t.index() + " of " + p.vm();
                    case EMULATOR -> "emulator thread of " + p.vm() + (tcg && !p.emulatorCpusGiven()
                            ? " (TCG: it runs the guest's timers, so it goes with vCPU 0)" : "");
                };
                controlled.add("/proc/" + vm.qemu().pid() + "/task/" + t.tid());
                if (!now.equals(target)) {
                    changes.add(new PinThread(p.vm(), vm.qemu().pid(), t.tid(), t.startTime(), t.name(), now, target, why));
                }
            }
        }

        void irqs(List<Profile> profiles) {
            boolean move = false;
            for (Profile p : profiles) {
                move |= p.irqs().moveToHost();
            }
            if (!move) {
                return;
            }
            PassthroughIrqs passthrough = profiles.get(0).irqs().passthrough();
            for (Irq irq : host.irqs()) {
                CpuSet target = hostCpus;
                String why = "keep interrupts off the VM's CPUs";
                if (irq.passthrough()) {
                    if (passthrough == PassthroughIrqs.LEAVE) {
                        unmovable.add(new Unmovable(ChangeKind.IRQ, "/proc/irq/" + irq.number(), irq.label(),
                                "pass-through device IRQ left as is (irqs.passthrough: leave)"));
                        continue;
                    }
                    if (passthrough == PassthroughIrqs.VM) {
                        target = vmCpus;
                        why = "the pass-through device's IRQ goes to the VM's CPUs (irqs.passthrough: vm)";
                    }
                }
                String path = "/proc/irq/" + irq.number() + "/smp_affinity_list";
                controlled.add(path);
                if (irq.affinity().equals(target)) {
                    continue;
                }
                if (irq.managed()) {
                    unmovable.add(new Unmovable(ChangeKind.IRQ, "/proc/irq/" + irq.number(), irq.label(),
                            "managed by the kernel (spread over CPUs per queue): its affinity cannot be changed"));
                    continue;
                }
                changes.add(new WriteFile(ChangeKind.IRQ, path, irq.affinityList(), target.toString(), ValueFormat.CPU_LIST, why + ": " + irq.label()));
            }
            String def = host.defaultIrqAffinity();
            if (!def.isEmpty()) {
                write(ChangeKind.IRQ, "/proc/irq/default_smp_affinity", def, sameWidthMask(hostCpus, def),
                        ValueFormat.CPU_MASK, "IRQs registered from now on start on the host CPUs");
            }
        }

        void workqueues(Profile p) {
            if (!p.workqueues().moveToHost()) {
                return;
            }
            for (Map.Entry<String, String> e : host.workqueueMasks().entrySet()) {
                String path = e.getKey();
                boolean global = path.equals(HostSnapshotReader.WORKQUEUES + "/cpumask");
                String name = global ? null : path.substring(HostSnapshotReader.WORKQUEUES.length() + 1, path.lastIndexOf('/'));
                if (global || p.workqueues().also().contains(name)) {
                    write(ChangeKind.WORKQUEUE, path, e.getValue(), sameWidthMask(hostCpus, e.getValue()), ValueFormat.CPU_MASK,
                            global ? "unbound kernel work (e.g. writeback) runs on the host CPUs"
                                    : "the " + name + " workqueue runs on the host CPUs");
                }
            }
        }

        void governor(Profile p) {
            if (p.leavesGovernor()) {
                return;
            }
            for (int cpu : p.vmCpus().toList()) {
                CpuPower power = host.power().get(cpu);
                if (power == null || power.governor() == null) {
                    warnings.add("CPU " + cpu + " has no cpufreq control; governor " + p.governor() + " not set");
                    continue;
                }
                write(ChangeKind.GOVERNOR, "/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor",
                        power.governor(), p.governor(), ValueFormat.TEXT, "vCPU CPUs run at full speed, no ramp-up delay");
            }
        }

        void cstates(Profile p) {
            CStateMethod method = p.cstates().method();
            if (method == CStateMethod.LEAVE) {
                return;
            }
            int max = p.cstates().maxLatencyUs();
            for (int cpu : p.vmCpus().toList()) {
                CpuPower power = host.power().get(cpu);
                String base = "/sys/devices/system/cpu/cpu" + cpu;
                if (method == CStateMethod.PM_QOS) {
                    if (power == null || power.pmQosResumeLatency() == null) {
                        warnings.add("CPU " + cpu + " has no power/pm_qos_resume_latency_us; C-states left as they are");
                        continue;
                    }
                    // "0" means no constraint to the kernel; "n/a" is the value that forbids any wake-up latency.
                    String value = max == 0 ? "n/a" : Integer.toString(max);
                    write(ChangeKind.CSTATE, base + "/power/pm_qos_resume_latency_us", power.pmQosResumeLatency(), value,
                            ValueFormat.TEXT, "no idle state with a wake-up latency above " + max + " us on vCPU CPUs");
                } else {
                    if (power == null || power.idleStates().isEmpty()) {
                        warnings.add("CPU " + cpu + " has no cpuidle states; C-states left as they are");
                        continue;
                    }
                    for (IdleState s : power.idleStates()) {
                        if (s.latencyUs() > max) {
                            write(ChangeKind.CSTATE, base + "/cpuidle/state" + s.index() + "/disable", s.disable(), "1",
                                    ValueFormat.TEXT, s.name() + " wakes up in " + s.latencyUs() + " us (> " + max + " us)");
                        }
                    }
                }
            }
        }

        void irqbalanceWarning() {
            HostSnapshot.Irqbalance ib = host.irqbalance();
            if (ib.running() && !vmCpus.isSubsetOf(ib.banned())) {
                warnings.add("irqbalance is running and will move IRQs back onto CPUs " + vmCpus.difference(ib.banned())
                        + ": add IRQBALANCE_BANNED_CPULIST=" + vmCpus.union(ib.banned()) + " to " + ib.configFile()
                        + " and restart irqbalance");
            }
        }

        /** The kernel prints masks as wide as nr_cpu_ids; write ours the same width. */
        private static String sameWidthMask(CpuSet cpus, String current) {
            return cpus.toMask(current.replace(",", "").length() * 4);
        }
    }
}
