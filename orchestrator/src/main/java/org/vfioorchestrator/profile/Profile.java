package org.vfioorchestrator.profile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.qemu.ThreadRole;

/**
 * One VM's profile, validated against the host it was loaded for: every CPU
 * exists and is online, {@code auto} pins are resolved to host CPUs.
 *
 * @param vm           the libvirt domain name
 * @param source       where it was read from, for messages
 * @param text         the file's text, kept in the journal so other VMs can be re-planned exactly
 * @param hostCpus     CPUs the host keeps while the VM runs
 * @param vcpuPins     host CPU of vCPU 0, 1, 2, ...
 * @param emulatorCpus where QEMU's emulator threads run under KVM: emulator_cpus, else host_cpus
 * @param emulatorCpusGiven whether the profile names emulator_cpus (else TCG puts them with vCPU 0, see
 *                     {@link #emulatorCpus(boolean)})
 * @param iothreadCpus where QEMU's iothreads run
 * @param sections     each tunable's section by its name, as {@link ProfileSection#parse} gave it (its defaults
 *                     where the profile leaves it out): see {@link #settings}
 */
public record Profile(
        String vm,
        String source,
        String text,
        CpuSet hostCpus,
        List<Integer> vcpuPins,
        CpuSet emulatorCpus,
        boolean emulatorCpusGiven,
        CpuSet iothreadCpus,
        Map<String, Object> sections,
        MeasurePolicy measure) {

    public Profile {
        sections = Map.copyOf(sections);
    }

    /** The settings of one tunable's section. */
    @SuppressWarnings("unchecked") // the loader put the value section.read gave under its name
    public <S> S settings(ProfileSection<S> section) {
        Object value = sections.get(section.name());
        if (value == null) {
            throw new IllegalArgumentException("no section " + section.name() + " was read into the profile of " + vm
                    + " (is its tunable registered?)");
        }
        return (S) value;
    }

    /**
     * This profile, if it is for {@code vm} (libvirt's name in a hook call, the VM a command names): a
     * profile for another VM would isolate the host under a name whose stop never comes.
     */
    public Profile requireVm(String vm) {
        if (!this.vm.equals(vm)) {
            throw OrchestratorException.data(source + " is for VM '" + this.vm + "', not '" + vm + "'; write vm: " + vm
                    + " in it, or leave vm: out and name the file " + vm + ".yaml");
        }
        return this;
    }

    /** The VM names of these profiles, in their order. */
    public static List<String> vmsOf(List<Profile> profiles) {
        List<String> out = new ArrayList<>();
        for (Profile p : profiles) {
            out.add(p.vm());
        }
        return List.copyOf(out);
    }

    /** The CPUs the host keeps while these VMs run: the online CPUs every profile gives the host. */
    public static CpuSet hostCpusOf(CpuSet online, List<Profile> profiles) {
        CpuSet hostCpus = online;
        for (Profile p : profiles) {
            hostCpus = hostCpus.intersection(p.hostCpus());
        }
        return hostCpus;
    }

    /** The CPUs these VMs' vCPUs run on together. */
    public static CpuSet vmCpusOf(List<Profile> profiles) {
        CpuSet vmCpus = CpuSet.empty();
        for (Profile p : profiles) {
            vmCpus = vmCpus.union(p.vmCpus());
        }
        return vmCpus;
    }

    /** The CPUs this VM's vCPUs run on: what gets isolated. */
    public CpuSet vmCpus() {
        return CpuSet.of(vcpuPins);
    }

    /** Every CPU a thread of this VM may use: vCPUs, emulator, iothreads (libvirt needs these in machine.slice). */
    public CpuSet allVmThreadCpus() {
        return vmCpus().union(emulatorCpus).union(iothreadCpus);
    }

    /**
     * Where the emulator threads go. Under KVM that is {@link #emulatorCpus}. Under TCG
     * ({@code <domain type='qemu'>}) the emulator thread runs the guest's timers, so unless the
     * profile names emulator_cpus it goes where vCPU 0 runs.
     */
    public CpuSet emulatorCpus(boolean tcg) {
        return tcg && !emulatorCpusGiven && !vcpuPins.isEmpty() ? CpuSet.of(vcpuPins.get(0)) : emulatorCpus;
    }

    /**
     * Where the hook pins a QEMU thread; the planner pins there and status compares with it. vCPU n
     * on pin n (null when the profile has no pin for it), iothreads on iothread_cpus, every other
     * thread on the emulator's CPUs for the accelerator ({@code tcg}: QEMU runs without KVM).
     */
    public CpuSet cpusFor(ThreadRole role, int index, boolean tcg) {
        return switch (role) {
            case VCPU -> index < vcpuPins.size() ? CpuSet.of(vcpuPins.get(index)) : null;
            case IOTHREAD -> iothreadCpus;
            case EMULATOR -> emulatorCpus(tcg);
        };
    }

    /** {@code inGuest}: the measurement after start also runs a latency tool inside the guest (its agent). */
    public record MeasurePolicy(boolean afterStart, Duration duration, OptionalInt maxLatencyUs, boolean inGuest) {
    }
}
