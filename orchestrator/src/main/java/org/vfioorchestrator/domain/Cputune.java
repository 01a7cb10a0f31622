package org.vfioorchestrator.domain;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;

/** {@code <cputune>}: pins (vCPU id or iothread id -> host CPUs) and schedulers. Empty when absent. */
public record Cputune(Map<Integer, CpuSet> vcpupin, Optional<CpuSet> emulatorpin, Map<Integer, CpuSet> iothreadpin,
        List<Sched> vcpusched, List<Sched> iothreadsched) {

    public Cputune {
        vcpupin = Map.copyOf(vcpupin);
        iothreadpin = Map.copyOf(iothreadpin);
        vcpusched = List.copyOf(vcpusched);
        iothreadsched = List.copyOf(iothreadsched);
    }

    public static Cputune none() {
        return new Cputune(Map.of(), Optional.empty(), Map.of(), List.of(), List.of());
    }

    /** All host CPUs any vCPU is pinned to. */
    public CpuSet vcpuCpus() {
        CpuSet all = CpuSet.empty();
        for (CpuSet cpus : vcpupin.values()) {
            all = all.union(cpus);
        }
        return all;
    }
}
