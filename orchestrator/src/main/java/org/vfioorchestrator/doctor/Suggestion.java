package org.vfioorchestrator.doctor;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.CpuTopology;

/**
 * A proposed split of the host: what the host keeps, the host CPU of each vCPU,
 * where the emulator and iothreads go, the guest topology that matches, and notes
 * (written as comments) on why. {@code tcg}: the VM runs without KVM ({@code <domain type='qemu'>}).
 */
public record Suggestion(String vm, boolean tcg, CpuSet hostCpus, List<Integer> vcpuPins, CpuSet emulatorCpus,
        CpuSet iothreadCpus, CpuTopology guestTopology, List<String> notes) {
    public Suggestion {
        vcpuPins = List.copyOf(vcpuPins);
        notes = List.copyOf(notes);
    }

    public CpuSet vmCpus() {
        return CpuSet.of(vcpuPins);
    }
}
