package org.vfioorchestrator.domain;

import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * {@code <vcpu placement cpuset>}: where vCPUs without a {@code <vcpupin>} run (libvirt also puts
 * the emulator there when there is no {@code <emulatorpin>}). {@code placement} is {@code static}
 * (the default) or {@code auto} (numad chooses a NUMA node when the VM starts).
 */
public record VcpuPlacement(String placement, Optional<CpuSet> cpuset) {
    public static VcpuPlacement none() {
        return new VcpuPlacement("static", Optional.empty());
    }

    public boolean auto() {
        return placement.equals("auto");
    }
}
