package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.topology.CpuAllocator;
import org.vfioorchestrator.topology.Topology;

/**
 * What doctor looks at: the domain, optionally the VM's profile, the host, and the
 * host's CPU topology (empty when the host tree has none). The helpers say
 * where things will run: the profile wins (the hook pins from it), else the
 * domain's {@code <cputune>}, else its {@code <vcpu cpuset>} (where libvirt runs a
 * vCPU without a pin, and the emulator without an {@code <emulatorpin>}).
 */
public record DoctorInput(Domain domain, Optional<ProfileView> profile, HostFs host, Optional<Topology> topology) {

    /** Host CPU of each vCPU, when every vCPU is pinned to exactly one CPU; else empty. */
    public Optional<List<Integer>> vcpuPins() {
        if (profile.isPresent()) {
            return Optional.of(profile.get().vcpuPins());
        }
        List<Integer> out = new ArrayList<>();
        for (int v = 0; v < domain.vcpus(); v++) {
            Optional<CpuSet> s = domain.vcpuCpus(v);
            if (s.isEmpty() || s.get().size() != 1) {
                return Optional.empty();
            }
            out.add(s.get().first());
        }
        return Optional.of(out);
    }

    /**
     * Where the vCPUs run, of the CPUs the host has (a pin to CPUs it lacks is cputune.pin-offline,
     * not the VM's); empty when they float.
     */
    public CpuSet vmCpus() {
        if (profile.isPresent()) {
            return profile.get().vmCpus();
        }
        CpuSet all = CpuSet.empty();
        for (int v = 0; v < domain.vcpus(); v++) {
            all = all.union(domain.vcpuCpus(v).orElse(CpuSet.empty()));
        }
        CpuSet pinned = all;
        return topology.map(t -> pinned.intersection(t.online())).orElse(pinned);
    }

    /** What the host keeps: the profile's host_cpus, else online CPUs the vCPUs are not pinned to. */
    public Optional<CpuSet> hostCpus() {
        if (profile.isPresent()) {
            return Optional.of(profile.get().hostCpus());
        }
        if (vmCpus().isEmpty()) {
            return Optional.empty();
        }
        return topology.map(t -> t.online().difference(vmCpus()));
    }

    /** Where the emulator runs: the profile's, else {@code <emulatorpin>}, else {@code <vcpu cpuset>}; empty = anywhere. */
    public Optional<CpuSet> emulatorCpus() {
        return profile.map(ProfileView::emulatorCpus).or(() -> domain.cputune().emulatorpin())
                .or(() -> domain.vcpuPlacement().cpuset());
    }

    /** Where one iothread runs: its {@code <iothreadpin>}, else the profile's iothread_cpus; empty = anywhere. */
    public Optional<CpuSet> iothreadCpus(int id) {
        CpuSet pin = domain.cputune().iothreadpin().get(id);
        if (pin != null) {
            return Optional.of(pin);
        }
        return profile.map(ProfileView::iothreadCpus).filter(s -> !s.isEmpty());
    }

    /**
     * The host CPUs a fix should name for the emulator or an iothread: what the host keeps, else (the vCPUs
     * float, or take every CPU) the cores suggest would keep for it, less the vCPUs'; empty when none is left.
     */
    public Optional<CpuSet> hostCpusForFixes() {
        Optional<CpuSet> host = hostCpus().filter(s -> !s.isEmpty());
        if (host.isPresent() || topology.isEmpty()) {
            return host;
        }
        CpuSet kept = CpuAllocator.defaultHostCores(topology.get()).stream().reduce(CpuSet.empty(), CpuSet::union);
        return Optional.of(kept.difference(vmCpus())).filter(s -> !s.isEmpty());
    }

    /** {@link #hostCpusForFixes} as a fix writes it, or what to do when there is none. */
    public String hostCpusText() {
        return hostCpusForFixes().map(CpuSet::toString)
                .orElse("CPUS (host CPUs no vCPU uses; none is free now: give the host a core first)");
    }
}
