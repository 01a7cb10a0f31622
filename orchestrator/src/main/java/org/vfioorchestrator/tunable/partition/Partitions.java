package org.vfioorchestrator.tunable.partition;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelRelease;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ProfiledTunable;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.cpuset.Cpusets;

/**
 * machine.slice as a cgroup v2 cpuset partition of every CPU the host gives up ({@code partition: isolated}
 * or {@code root}): out of the scheduler's load balancing, without a reboot. Planned after the cpusets, whose
 * change took the host's cgroups off those CPUs, as a partition's CPUs must be exclusive among its siblings.
 * It reads machine.slice's cpuset.cpus and cpuset.cpus.partition (and on systemd hosts its AllowedCPUs), the
 * kernel's version, and whether each VM runs under TCG (where its emulator thread goes).
 */
public final class Partitions extends ProfiledTunable<Partitions.Facts, Partitions.Type> {
    public static final ChangeKind KIND = new ChangeKind("partition", "partition");
    static final String SLICE_DIR = "/sys/fs/cgroup/" + Cpusets.MACHINE_SLICE;

    /** What machine.slice becomes while the VMs run; {@code none} leaves it a member of the root partition. */
    public enum Type { NONE, ROOT, ISOLATED }

    /**
     * @param online  the host's online CPUs
     * @param backend the cpuset backend the cgroups section chooses (a partition needs SYSTEMD or V2)
     * @param slice   machine.slice if it exists (libvirt makes it when its first VM starts)
     * @param tcg     each running VM: whether QEMU runs without KVM
     * @param kernel  the kernel's release, if it says one: what partitions to expect where no file shows them yet
     */
    public record Facts(CpuSet online, Cpusets.Mode backend, Optional<Slice> slice, Map<String, Boolean> tcg,
            Optional<KernelRelease> kernel) {
    }

    /**
     * @param cpus      its cpuset.cpus; empty until its parent enables the cpuset controller
     * @param partition its cpuset.cpus.partition; empty until then too, or where the kernel has no partitions
     * @param allowed   on systemd hosts: its AllowedCPUs and runtime drop-in
     */
    public record Slice(Optional<String> cpus, Optional<String> partition, Optional<Unit> allowed) {
    }

    public record Unit(String allowedCpus, Optional<String> dropIn) {
    }

    /** Built after the constants its constructor uses. */
    public static final Partitions UNIT = new Partitions();

    private Partitions() {
        super(KIND, "partition", Set.of(), Type.NONE);
    }

    // ---- the profile section -------------------------------------------------------------

    @Override
    public Type parse(YamlNode node, Input in) {
        Type t = in.walk().choice(node, "partition", Type.class);
        return t == null ? Type.NONE : t;
    }

    // ---- the host ------------------------------------------------------------------------

    /** Read only when a profile asks (a systemd unit's property costs a systemctl call), and for a capture. */
    @Override
    public Facts read(HostFs host, ReadScope scope) {
        if (!scope.everything() && scope.settings(this) == Type.NONE) {
            return new Facts(scope.topology().online(), Cpusets.Mode.NONE, Optional.empty(), Map.of(), Optional.empty());
        }
        Cpusets.Mode backend = Cpusets.backend(host, scope.settings(Cpusets.UNIT));
        Optional<KernelRelease> kernel = KernelRelease.of(host);
        Map<String, Boolean> tcg = new TreeMap<>();
        for (String vm : scope.vms()) {
            QemuProcess.find(host, vm).ifPresent(q -> tcg.put(vm, q.tcg()));
        }
        if ((backend != Cpusets.Mode.SYSTEMD && backend != Cpusets.Mode.V2) || !host.exists(SLICE_DIR + "/cgroup.procs")) {
            return new Facts(scope.topology().online(), backend, Optional.empty(), tcg, kernel);
        }
        Optional<Unit> allowed = Optional.empty();
        if (backend == Cpusets.Mode.SYSTEMD) {
            Systemd systemd = host.systemd().orElseThrow();
            allowed = Optional.of(new Unit(systemd.property(Cpusets.MACHINE_SLICE, Cpusets.ALLOWED_CPUS),
                    host.read(Systemd.dropIn(Cpusets.MACHINE_SLICE, Cpusets.ALLOWED_CPUS))));
        }
        return new Facts(scope.topology().online(), backend, Optional.of(new Slice(host.read(SLICE_DIR + "/cpuset.cpus").map(String::strip),
                host.read(SLICE_DIR + "/cpuset.cpus.partition").map(String::strip), allowed)), tcg, kernel);
    }

    // ---- the plan ------------------------------------------------------------------------

    @Override
    public void plan(Facts facts, Planning plan) {
        Type want = plan.first().settings(this);
        if (want == Type.NONE) {
            return;
        }
        String name = want.name().toLowerCase(Locale.ROOT);
        String key = "partition: " + name;
        if (facts.backend() != Cpusets.Mode.SYSTEMD && facts.backend() != Cpusets.Mode.V2) {
            plan.warn(key + " needs cgroup v2 with the cpuset controller (this host's cpusets: "
                    + facts.backend().name().toLowerCase(Locale.ROOT) + "); the VM's CPUs stay in the scheduler's load balancing");
            return;
        }
        if (facts.slice().isEmpty()) {
            plan.warn(key + ": there is no " + Cpusets.MACHINE_SLICE + " yet (libvirt makes it when a VM starts); the"
                    + " partition is made at the next apply while a VM runs");
            return;
        }
        Slice slice = facts.slice().get();
        String kernel = facts.kernel().map(k -> " (" + k + ")").orElse("");
        if (slice.partition().isEmpty() && slice.cpus().isPresent()) {
            plan.warn(key + ": this kernel" + kernel + " has no cpuset partitions (no cpuset.cpus.partition); the VM's CPUs"
                    + " stay in the scheduler's load balancing");
            return;
        }
        expectedRefusal(want, slice, facts.kernel()).ifPresent(why -> plan.warn(key + ": this kernel" + kernel + " is older"
                + " than Linux " + why));
        for (Profile p : plan.profiles()) {
            CpuSet onHost = p.emulatorCpus(facts.tcg().getOrDefault(p.vm(), false)).union(p.iothreadCpus())
                    .intersection(plan.hostCpus());
            if (!onHost.isEmpty()) {
                throw OrchestratorException.data(key + " puts every thread of " + p.vm() + " in " + Cpusets.MACHINE_SLICE
                        + ", off the host CPUs, but its emulator thread or iothreads go on host CPU " + onHost + " ("
                        + p.source() + "); give emulator_cpus and iothread_cpus CPUs of the VM's, e.g. emulator_cpus: "
                        + CpuSet.of(p.vcpuPins().get(0)) + ", or leave partition out");
            }
        }
        String cpus = facts.online().difference(plan.hostCpus()).toString();
        String why = "the VMs' CPUs, for the partition";
        if (slice.allowed().isPresent()) {
            Unit unit = slice.allowed().get();
            Change.SetUnitProperty change = new Change.SetUnitProperty(KIND, Cpusets.MACHINE_SLICE, Cpusets.ALLOWED_CPUS,
                    unit.allowedCpus(), cpus, unit.dropIn().orElse(null), why);
            plan.controls(change.path());
            if (!ValueFormat.CPU_LIST.same(unit.allowedCpus(), cpus)) {
                plan.change(change);
            }
        } else {
            plan.write(KIND, SLICE_DIR + "/cpuset.cpus", slice.cpus().orElse(""), cpus, ValueFormat.CPU_LIST, why);
        }
        // before the cpuset controller reaches machine.slice its partition file is not there yet: a member, as it comes
        plan.write(KIND, SLICE_DIR + "/cpuset.cpus.partition", slice.partition().orElse("member"), name, ValueFormat.PARTITION,
                want == Type.ISOLATED ? "the VMs' CPUs leave the scheduler's load balancing"
                        : "the VMs' CPUs become a scheduling domain of their own");
    }

    /**
     * What the kernel's version says apply will meet: machine.slice's partition file (shown once the cpuset controller
     * reaches it, on systemd hosts only at apply) came with Linux 5.0, and 'isolated' with 6.1. Empty where the
     * version does not say, or the file is there already (its presence answers the first question).
     */
    private static Optional<String> expectedRefusal(Type want, Slice slice, Optional<KernelRelease> kernel) {
        if (kernel.isEmpty()) {
            return Optional.empty();
        }
        if (slice.partition().isEmpty() && !kernel.get().atLeast(5, 0)) {
            return Optional.of("5.0, which brought cpuset partitions: unless its distribution added them, apply finds none"
                    + " and goes on without");
        }
        if (want == Type.ISOLATED && !kernel.get().atLeast(6, 1)) {
            return Optional.of("6.1, which brought 'isolated' partitions: unless its distribution added them, apply finds"
                    + " 'isolated' refused and goes on without; partition: root may work");
        }
        return Optional.empty();
    }
}
