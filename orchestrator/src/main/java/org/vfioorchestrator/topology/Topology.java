package org.vfioorchestrator.topology;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * A host's CPU topology as the kernel shows it: which CPUs exist and are
 * online, how they group into physical cores (SMT siblings), L3 groups
 * (AMD CCX/CCD), NUMA nodes, packages, and core types on hybrid parts.
 * Immutable; read it with {@link TopologyReader#read}.
 *
 * <p>Everything except {@link #present()}, {@link #offline()} and
 * {@link #nrCpuIds()} covers online CPUs only: the kernel shows no topology
 * for an offline CPU.
 */
public final class Topology {
    private final CpuSet present;
    private final CpuSet online;
    private final int nrCpuIds;
    private final SortedMap<Integer, Cpu> cpus;
    private final List<CpuSet> cores;
    private final List<CpuSet> l3Groups;
    private final SortedMap<Integer, CpuSet> numaNodes;
    private final SortedMap<Integer, CpuSet> packages;
    private final Map<CoreType, CpuSet> coreTypes;

    Topology(CpuSet present, CpuSet online, int nrCpuIds, SortedMap<Integer, Cpu> cpus, List<CpuSet> cores,
            List<CpuSet> l3Groups, SortedMap<Integer, CpuSet> numaNodes, SortedMap<Integer, CpuSet> packages,
            Map<CoreType, CpuSet> coreTypes) {
        this.present = present;
        this.online = online;
        this.nrCpuIds = nrCpuIds;
        this.cpus = Collections.unmodifiableSortedMap(new TreeMap<>(cpus));
        this.cores = sorted(cores);
        this.l3Groups = sorted(l3Groups);
        this.numaNodes = Collections.unmodifiableSortedMap(new TreeMap<>(numaNodes));
        this.packages = Collections.unmodifiableSortedMap(new TreeMap<>(packages));
        this.coreTypes = coreTypes.isEmpty()
                ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(coreTypes));
    }

    private static List<CpuSet> sorted(List<CpuSet> sets) {
        List<CpuSet> out = new ArrayList<>(sets);
        Collections.sort(out); // not a stream: the topology is read first on every hook call, in a cold JVM
        return List.copyOf(out);
    }

    /** CPUs that physically exist ({@code /sys/devices/system/cpu/present}). */
    public CpuSet present() {
        return present;
    }

    /** CPUs the kernel is running on now. */
    public CpuSet online() {
        return online;
    }

    /** Present but not online. */
    public CpuSet offline() {
        return present.difference(online);
    }

    /** Highest possible CPU id + 1: the width of the masks the kernel prints. */
    public int nrCpuIds() {
        return nrCpuIds;
    }

    /** An online CPU; empty for offline or unknown ids. */
    public Optional<Cpu> cpu(int id) {
        return Optional.ofNullable(cpus.get(id));
    }

    /** All online CPUs, by id. */
    public List<Cpu> cpus() {
        return List.copyOf(cpus.values());
    }

    /** One set per physical core, holding its online SMT siblings; ordered by lowest CPU. */
    public List<CpuSet> cores() {
        return cores;
    }

    /** The online CPUs of the core that holds {@code cpu} (itself included); empty if {@code cpu} is not online. */
    public CpuSet siblingsOf(int cpu) {
        for (CpuSet core : cores) {
            if (core.contains(cpu)) {
                return core;
            }
        }
        return CpuSet.empty();
    }

    /** CPUs sharing an L3 cache, ordered by lowest CPU; empty if the kernel shows no cache information. */
    public List<CpuSet> l3Groups() {
        return l3Groups;
    }

    /** NUMA node id to its online CPUs, sorted by id; nodes without online CPUs are left out. */
    public Map<Integer, CpuSet> numaNodes() {
        return numaNodes;
    }

    /** Package (socket) id to its online CPUs, sorted by id. */
    public Map<Integer, CpuSet> packages() {
        return packages;
    }

    /** Core type to its online CPUs; an empty map unless the host shows hybrid core types. */
    public Map<CoreType, CpuSet> coreTypes() {
        return coreTypes;
    }

    /**
     * The L3 groups, or the packages when the kernel shows no cache information: the widest
     * sharing of cache the host shows.
     */
    public List<CpuSet> l3GroupsOrPackages() {
        return l3Groups.isEmpty() ? List.copyOf(packages.values()) : l3Groups;
    }

    /** The L3 groups (or packages, see {@link #l3GroupsOrPackages}) a set of CPUs touches. */
    public List<CpuSet> l3GroupsTouched(CpuSet set) {
        return l3GroupsOrPackages().stream().filter(g -> g.intersects(set)).toList();
    }

    /** The NUMA nodes a set of CPUs touches; empty when the host shows no NUMA information. */
    public TreeSet<Integer> nodesTouched(CpuSet set) {
        TreeSet<Integer> out = new TreeSet<>();
        numaNodes.forEach((node, nodeCpus) -> {
            if (nodeCpus.intersects(set)) {
                out.add(node);
            }
        });
        return out;
    }

    /** The core type of an online CPU, on a host that shows them. */
    public Optional<CoreType> coreTypeOf(int cpu) {
        return coreTypes.entrySet().stream().filter(e -> e.getValue().contains(cpu)).map(Map.Entry::getKey).findFirst();
    }

    /** Whether the host has cores of more than one type (Intel P- and E-cores). */
    public boolean hybrid() {
        return coreTypes.size() > 1;
    }

    /** True when some core has more than one online thread. */
    public boolean smt() {
        for (CpuSet c : cores) {
            if (c.size() > 1) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "Topology[online=" + online + ", cores=" + cores.size() + ", packages=" + packages.keySet()
                + ", l3Groups=" + l3Groups.size() + ", numaNodes=" + numaNodes.keySet() + "]";
    }
}
