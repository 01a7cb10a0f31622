package org.vfioorchestrator.topology;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * Chooses the host CPUs of a VM's vCPUs: the one allocator behind {@code suggest} and
 * {@code pin: auto}, so both choose the same on the same host. Whole cores only (SMT
 * siblings together and adjacent, so that vCPU 2k and 2k+1 make one guest core; one core
 * is shared with nobody only when an odd count forces it), from one L3 group, else one
 * NUMA node, else the whole host, and of one core type on hybrid CPUs unless allowed.
 * Among the groups with room it prefers, in order: the GPU's NUMA node, performance
 * cores, a group the host's CPUs do not touch (its cache stays the VM's), the lowest CPU.
 * Pure.
 */
public final class CpuAllocator {
    /** Cores per core the host keeps when nobody says which. */
    public static final int CORES_PER_HOST_CORE = 8;

    private CpuAllocator() {
    }

    /**
     * @param vcpus          how many CPUs to choose
     * @param hostCpus       what the host keeps (a group it touches is chosen last)
     * @param pool           the CPUs to choose from; a core counts only when all its CPUs are in it
     * @param gpuNode        the pass-through GPU's NUMA node, if known
     * @param mixedCoreTypes whether P- and E-cores may serve one VM
     */
    public record Request(int vcpus, CpuSet hostCpus, CpuSet pool, Optional<Integer> gpuNode, boolean mixedCoreTypes) {
    }

    /**
     * @param pins  the host CPU of vCPU 0, 1, 2, ...
     * @param cores the cores they are on (with an odd count one of them holds a CPU no vCPU uses)
     * @param group where they came from, for people: {@code L3 group 8-15,24-31}, {@code NUMA node 1}
     * @param type  their core type on a hybrid host
     */
    public record Allocation(List<Integer> pins, List<CpuSet> cores, String group, Optional<CoreType> type) {
        public Allocation {
            pins = List.copyOf(pins);
            cores = List.copyOf(cores);
        }

        public CpuSet cpus() {
            return CpuSet.of(pins);
        }
    }

    /** How wide a group is: an L3 group before a NUMA node before the whole host. */
    private enum Scope { L3, NODE, HOST }

    /** The whole cores of one group (and core type) inside the pool. */
    private record Candidate(Scope scope, String group, List<CpuSet> cores, Optional<CoreType> type,
            boolean onGpuNode, boolean touchesHost) {
        int cpus() {
            int n = 0;
            for (CpuSet c : cores) {
                n += c.size();
            }
            return n;
        }
    }

    private static final Comparator<Candidate> PREFERENCE = Comparator
            .comparing((Candidate c) -> !c.onGpuNode())
            .thenComparing(c -> c.type().map(t -> t != CoreType.PERFORMANCE).orElse(false))
            .thenComparing(Candidate::touchesHost)
            .thenComparingInt(c -> c.cores().isEmpty() ? Integer.MAX_VALUE : c.cores().get(0).first());

    /** The cores a host keeps when nobody says which: its first, and one per {@value #CORES_PER_HOST_CORE} on bigger hosts. */
    public static List<CpuSet> defaultHostCores(Topology t) {
        int keep = Math.max(1, t.cores().size() / CORES_PER_HOST_CORE);
        return t.cores().subList(0, Math.min(keep, t.cores().size()));
    }

    /** The VM's CPUs, or empty when no group has room for {@code vcpus} of them ({@link #mostThatFit} says how many fit). */
    public static Optional<Allocation> allocate(Topology t, Request r) {
        List<Candidate> candidates = candidates(t, r);
        for (Scope scope : Scope.values()) {
            Optional<Candidate> best = candidates.stream()
                    .filter(c -> c.scope() == scope && c.cpus() >= r.vcpus())
                    .min(PREFERENCE);
            if (best.isPresent()) {
                List<CpuSet> cores = take(best.get().cores(), r.vcpus());
                List<Integer> pins = new ArrayList<>();
                for (CpuSet core : cores) {
                    for (int cpu : core.toList()) {
                        if (pins.size() < r.vcpus()) {
                            pins.add(cpu);
                        }
                    }
                }
                return Optional.of(new Allocation(pins, cores, best.get().group(), best.get().type()));
            }
        }
        return Optional.empty();
    }

    /** The most vCPUs one group could take under the same rules. */
    public static int mostThatFit(Topology t, Request r) {
        return candidates(t, r).stream().mapToInt(Candidate::cpus).max().orElse(0);
    }

    private static List<Candidate> candidates(Topology t, Request r) {
        List<CpuSet> whole = t.cores().stream().filter(c -> c.isSubsetOf(r.pool())).toList();
        List<Optional<CoreType>> types = new ArrayList<>();
        if (t.hybrid() && !r.mixedCoreTypes()) {
            types.add(Optional.of(CoreType.PERFORMANCE));
            types.add(Optional.of(CoreType.EFFICIENCY));
        } else {
            types.add(Optional.empty());
        }
        List<Candidate> out = new ArrayList<>();
        for (Optional<CoreType> type : types) {
            for (CpuSet g : t.l3GroupsOrPackages()) {
                out.add(candidate(t, r, Scope.L3, "L3 group " + g, g, whole, type));
            }
            Map<Integer, CpuSet> nodes = t.numaNodes().isEmpty() ? Map.of(0, t.online()) : t.numaNodes();
            nodes.forEach((n, cpus) -> out.add(candidate(t, r, Scope.NODE, "NUMA node " + n, cpus, whole, type)));
            out.add(candidate(t, r, Scope.HOST, "the whole host", t.online(), whole, type));
        }
        return out;
    }

    private static Candidate candidate(Topology t, Request r, Scope scope, String name, CpuSet within,
            List<CpuSet> whole, Optional<CoreType> type) {
        List<CpuSet> cores = whole.stream().filter(c -> c.isSubsetOf(within))
                .filter(c -> type.isEmpty() || t.coreTypeOf(c.first()).equals(type)).toList();
        TreeSet<Integer> nodes = t.nodesTouched(within);
        boolean onGpuNode = r.gpuNode().isPresent() && nodes.size() == 1 && nodes.first().equals(r.gpuNode().get());
        return new Candidate(scope, name, cores, type, onGpuNode, within.intersects(r.hostCpus()));
    }

    /**
     * Whole cores, in order, that add up to exactly {@code vcpus} CPUs when the sizes allow it
     * (a single-thread core fills an odd gap); else one core is used in part, the smallest that
     * covers the rest.
     */
    private static List<CpuSet> take(List<CpuSet> cores, int vcpus) {
        List<CpuSet> taken = new ArrayList<>();
        int remaining = vcpus;
        for (CpuSet core : cores) {
            if (remaining > 0 && core.size() <= remaining) {
                taken.add(core);
                remaining -= core.size();
            }
        }
        if (remaining > 0) {
            int rest = remaining;
            cores.stream().filter(core -> !taken.contains(core) && core.size() >= rest)
                    .min(Comparator.comparingInt(CpuSet::size)).ifPresent(taken::add);
        }
        taken.sort(Comparator.naturalOrder());
        return taken;
    }
}
