package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.topology.CoreType;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;

/**
 * The host CPU layout doctor and suggest reason about: online CPUs, cores (SMT
 * sibling sets), L3 groups, NUMA nodes and, on hybrid CPUs, core types
 * ({@code "performance"} / {@code "efficiency"}; empty when all cores are alike).
 * Every set holds online CPUs only. A view of {@link Topology} shaped for the checks,
 * so that tests can state a layout directly.
 */
public record CpuLayout(CpuSet online, List<CpuSet> cores, List<CpuSet> l3Groups, Map<Integer, CpuSet> numaNodes,
        Map<String, CpuSet> coreTypes) {
    public static final String PERFORMANCE = "performance";
    public static final String EFFICIENCY = "efficiency";

    public CpuLayout {
        cores = cores.stream().sorted().toList();
        l3Groups = l3Groups.stream().sorted().toList();
        numaNodes = Map.copyOf(numaNodes);
        coreTypes = Map.copyOf(coreTypes);
    }

    /** The core (all SMT siblings) that holds {@code cpu}, or just the CPU if unknown. */
    public CpuSet siblingsOf(int cpu) {
        return cores.stream().filter(c -> c.contains(cpu)).findFirst().orElse(CpuSet.of(cpu));
    }

    public Optional<CpuSet> l3Of(int cpu) {
        return l3Groups.stream().filter(c -> c.contains(cpu)).findFirst();
    }

    public Optional<Integer> nodeOf(int cpu) {
        return numaNodes.entrySet().stream().filter(e -> e.getValue().contains(cpu)).map(Map.Entry::getKey).findFirst();
    }

    public Optional<String> coreTypeOf(int cpu) {
        return coreTypes.entrySet().stream().filter(e -> e.getValue().contains(cpu)).map(Map.Entry::getKey).findFirst();
    }

    public boolean hybrid() {
        return coreTypes.size() > 1;
    }

    /** The L3 groups (or NUMA nodes) a set of CPUs touches. */
    public List<CpuSet> l3GroupsTouched(CpuSet cpus) {
        return l3Groups.stream().filter(g -> g.intersects(cpus)).toList();
    }

    public TreeSet<Integer> nodesTouched(CpuSet cpus) {
        TreeSet<Integer> out = new TreeSet<>();
        numaNodes.forEach((n, set) -> {
            if (set.intersects(cpus)) {
                out.add(n);
            }
        });
        return out;
    }

    /** The host's layout, from the topology reader. */
    public static CpuLayout read(HostFs fs) {
        return of(TopologyReader.read(fs));
    }

    /**
     * Adapts a {@link Topology}. Without cache information the packages stand in
     * for L3 groups (the largest sharing domain the kernel shows).
     */
    public static CpuLayout of(Topology t) {
        List<CpuSet> l3 = t.l3Groups().isEmpty() ? new ArrayList<>(t.packages().values()) : t.l3Groups();
        Map<String, CpuSet> types = new LinkedHashMap<>();
        t.coreTypes().forEach((type, cpus) -> {
            if (type == CoreType.PERFORMANCE) {
                types.put(PERFORMANCE, cpus);
            } else if (type == CoreType.EFFICIENCY) {
                types.put(EFFICIENCY, cpus);
            }
        });
        Map<Integer, CpuSet> nodes = t.numaNodes().isEmpty() ? Map.of(0, t.online()) : t.numaNodes();
        return new CpuLayout(t.online(), t.cores(), l3, nodes, types);
    }
}
