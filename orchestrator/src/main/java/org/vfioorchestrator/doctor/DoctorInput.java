package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.topology.Topology;

/**
 * What doctor looks at: the domain, optionally the VM's profile, the host, and the
 * host's CPU topology (empty when the host tree has none). The helpers say
 * where things will run: the profile wins (the hook pins from it), else the
 * domain's {@code <cputune>}.
 */
public record DoctorInput(Domain domain, Optional<ProfileView> profile, HostFs host, Optional<Topology> topology) {

    /** Host CPU of each vCPU, when every vCPU is pinned to exactly one CPU; else empty. */
    public Optional<List<Integer>> vcpuPins() {
        if (profile.isPresent()) {
            return Optional.of(profile.get().vcpuPins());
        }
        Map<Integer, CpuSet> pins = domain.cputune().vcpupin();
        List<Integer> out = new ArrayList<>();
        for (int v = 0; v < domain.vcpus(); v++) {
            CpuSet s = pins.get(v);
            if (s == null || s.size() != 1) {
                return Optional.empty();
            }
            out.add(s.first());
        }
        return Optional.of(out);
    }

    /** Where the vCPUs run; empty when they float. */
    public CpuSet vmCpus() {
        return profile.map(ProfileView::vmCpus).orElseGet(() -> domain.cputune().vcpuCpus());
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

    public Optional<CpuSet> emulatorCpus() {
        return profile.map(ProfileView::emulatorCpus).or(() -> domain.cputune().emulatorpin());
    }

    /** Where one iothread runs: its {@code <iothreadpin>}, else the profile's iothread_cpus; empty = anywhere. */
    public Optional<CpuSet> iothreadCpus(int id) {
        CpuSet pin = domain.cputune().iothreadpin().get(id);
        if (pin != null) {
            return Optional.of(pin);
        }
        return profile.map(ProfileView::iothreadCpus).filter(s -> !s.isEmpty());
    }
}
