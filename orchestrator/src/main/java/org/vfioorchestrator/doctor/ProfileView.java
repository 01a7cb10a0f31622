package org.vfioorchestrator.doctor;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.profile.Profile;

/**
 * The profile values doctor compares a domain with: host CPU of each vCPU
 * ({@code vcpuPins.get(i)} for vCPU i), and the CPU sets of the host, the
 * emulator and the iothreads. Built from the profile loader's Profile.
 */
public record ProfileView(CpuSet hostCpus, List<Integer> vcpuPins, CpuSet vmCpus, CpuSet emulatorCpus,
        CpuSet iothreadCpus) {
    public ProfileView {
        vcpuPins = List.copyOf(vcpuPins);
    }

    /** {@code tcg}: the domain runs without KVM, which decides where the emulator goes unless the profile says. */
    public static ProfileView of(Profile p, boolean tcg) {
        return new ProfileView(p.hostCpus(), p.vcpuPins(), p.vmCpus(), p.emulatorCpus(tcg), p.iothreadCpus());
    }
}
