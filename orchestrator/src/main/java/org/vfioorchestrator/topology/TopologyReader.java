package org.vfioorchestrator.topology;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;

/**
 * Reads the CPU topology from sysfs through {@link HostFs}.
 *
 * <p>Sources, per online CPU N: {@code /sys/devices/system/cpu/cpuN/topology/}
 * ({@code physical_package_id}, {@code die_id}, {@code core_id},
 * {@code core_cpus_list} or {@code thread_siblings_list}, or their hex-mask
 * forms), {@code cpuN/cache/indexK/} ({@code level}, {@code type},
 * {@code shared_cpu_list} or {@code shared_cpu_map}), and
 * {@code /sys/devices/system/node/nodeM/cpulist} (or {@code cpumap}).
 *
 * <p>Choices worth knowing:
 * <ul>
 * <li>A core is a set of SMT siblings ({@code core_cpus}/{@code thread_siblings}), never a
 *     {@code core_id} alone: core ids repeat across packages. Within one sibling set,
 *     CPUs with different {@code core_id}s are separate cores: AMD family 15h
 *     (Bulldozer) lists both integer cores of a compute unit as siblings, and hwloc
 *     counts them as two cores too.</li>
 * <li>Kernels before 2.6.26 have no {@code present}/{@code online}/{@code possible}
 *     files: present is then the {@code cpuN} directories, online those whose
 *     {@code cpuN/online} is not {@code 0} (cpu0 usually has no such file), and
 *     nrCpuIds is highest present + 1.</li>
 * <li>Core types come from the kernel's hybrid PMUs {@code /sys/devices/cpu_core/cpus}
 *     and {@code /sys/devices/cpu_atom/cpus}; without them, from
 *     {@code cpuN/cpu_capacity} (Arm), else from {@code cpuN/cpufreq/base_frequency}
 *     (intel_pstate), when online CPUs differ: the highest value is PERFORMANCE,
 *     the lowest EFFICIENCY, anything between UNKNOWN. The maximum (turbo) frequency
 *     is not used: it also differs between cores of one kind (Turbo Boost Max 3.0,
 *     AMD preferred cores).</li>
 * </ul>
 * A missing or malformed file is an {@link OrchestratorException} naming the file.
 */
public final class TopologyReader {
    static final String CPU_DIR = "/sys/devices/system/cpu";
    static final String NODE_DIR = "/sys/devices/system/node";
    static final String PMU_CORE = "/sys/devices/cpu_core/cpus";
    static final String PMU_ATOM = "/sys/devices/cpu_atom/cpus";


    private final HostFs host;

    private TopologyReader(HostFs host) {
        this.host = host;
    }

    /** Reads the topology of {@code host}; a missing or malformed sysfs file is an {@link OrchestratorException}. */
    public static Topology read(HostFs host) {
        return new TopologyReader(host).read();
    }

    /** A CPU set and the file it came from, for messages. */
    private record Sourced(CpuSet cpus, String file) {
    }

    private Topology read() {
        Optional<CpuSet> listed = list(CPU_DIR + "/present");
        CpuSet present = listed.isPresent() ? listed.get() : presentFromDirectories();
        listed = list(CPU_DIR + "/online");
        CpuSet online = listed.isPresent() ? listed.get() : onlineFromFiles(present);
        if (online.isEmpty()) {
            throw problem(CPU_DIR + "/online", "no online CPUs");
        }
        if (!online.isSubsetOf(present)) {
            throw problem(CPU_DIR + "/online", "lists CPUs " + online.difference(present)
                    + " that " + CPU_DIR + "/present (" + present + ") does not");
        }
        Optional<CpuSet> possible = list(CPU_DIR + "/possible");
        int nrCpuIds = Math.max(possible.isPresent() ? possible.get().last() : -1, present.last()) + 1;

        Map<Integer, Integer> packageOf = new HashMap<>();
        Map<Integer, Integer> dieOf = new HashMap<>();
        Map<Integer, Integer> coreIdOf = new HashMap<>();
        Map<Integer, Sourced> siblingsOf = new TreeMap<>();
        for (int cpu : online.toList()) {
            String dir = CPU_DIR + "/cpu" + cpu + "/topology";
            String packageFile = dir + "/physical_package_id";
            Optional<String> packageId = host.read(packageFile);
            if (packageId.isEmpty()) {
                // name the directory when all of it is missing (a directory test per CPU only then)
                throw problem(host.isDirectory(dir) ? packageFile : dir,
                        "missing; the kernel shows it for every online CPU. Is the host tree complete?");
            }
            packageOf.put(cpu, parseInt(packageFile, packageId.get()));
            coreIdOf.put(cpu, requiredInt(dir + "/core_id"));
            dieOf.put(cpu, optionalInt(dir + "/die_id").orElse(-1));
            Sourced siblings = firstSet(dir, "core_cpus_list", "thread_siblings_list", "core_cpus", "thread_siblings");
            if (siblings == null) {
                throw missing(dir, "thread_siblings_list", "core_cpus_list", "core_cpus", "thread_siblings");
            }
            siblingsOf.put(cpu, new Sourced(siblings.cpus().intersection(online), siblings.file()));
        }
        checkPartition(siblingsOf);
        List<CpuSet> cores = new ArrayList<>();
        for (CpuSet siblings : distinct(siblingsOf)) {
            Map<Integer, CpuSet> byCoreId = new TreeMap<>();
            for (int cpu : siblings.toList()) {
                CpuSet sameId = byCoreId.get(coreIdOf.get(cpu));
                byCoreId.put(coreIdOf.get(cpu), sameId == null ? CpuSet.of(cpu) : sameId.union(CpuSet.of(cpu)));
            }
            cores.addAll(byCoreId.values());
        }

        Map<Integer, Sourced> l3Of = readL3(online);
        checkPartition(l3Of);
        List<CpuSet> l3Groups = distinct(l3Of);

        SortedMap<Integer, CpuSet> numaNodes = readNumaNodes(online);
        Map<CoreType, CpuSet> coreTypes = readCoreTypes(online);

        SortedMap<Integer, Cpu> cpus = new TreeMap<>();
        SortedMap<Integer, CpuSet> packages = new TreeMap<>();
        for (int cpu : online.toList()) {
            int l3Id = indexOfGroup(l3Groups, cpu);
            Integer node = keyHolding(numaNodes, cpu);
            CoreType type = keyHolding(coreTypes, cpu);
            cpus.put(cpu, new Cpu(cpu, packageOf.get(cpu), dieOf.get(cpu), coreIdOf.get(cpu), l3Id,
                    node == null ? -1 : node, type == null ? CoreType.UNKNOWN : type));
            CpuSet inPackage = packages.get(packageOf.get(cpu));
            packages.put(packageOf.get(cpu), inPackage == null ? CpuSet.of(cpu) : inPackage.union(CpuSet.of(cpu)));
        }
        return new Topology(present, online, nrCpuIds, cpus, cores, l3Groups, numaNodes, packages, coreTypes);
    }

    private CpuSet presentFromDirectories() {
        List<Integer> ids = new ArrayList<>();
        for (String name : host.list(CPU_DIR)) {
            int id = KernelText.numberAfter("cpu", name);
            if (id >= 0 && host.isDirectory(CPU_DIR + "/" + name)) {
                ids.add(id);
            }
        }
        if (ids.isEmpty()) {
            throw problem(CPU_DIR + "/present", "missing, and no cpuN directories beside it. Is this a host tree?");
        }
        return CpuSet.of(ids);
    }

    private CpuSet onlineFromFiles(CpuSet present) {
        List<Integer> ids = new ArrayList<>();
        for (int cpu : present.toList()) {
            String file = CPU_DIR + "/cpu" + cpu + "/online";
            Optional<String> text = host.read(file);
            String state = text.isPresent() ? text.get().strip() : "1";
            switch (state) {
                case "1" -> ids.add(cpu);
                case "0" -> { }
                default -> throw problem(file, "expected 0 or 1, found '" + state + "'");
            }
        }
        return CpuSet.of(ids);
    }

    /**
     * The unified (or data) L3 cache of each online CPU that shows one. The kernel numbers a CPU's
     * caches from L1 up, data before instruction within a level ({@code index0} L1 data, {@code index1}
     * L1 instruction, {@code index2} L2, {@code index3} L3), so {@code index3} is asked first, and
     * only where it is no L3 data or unified cache are the indexes listed and searched from the
     * highest down (one level read, not four, per CPU; an L4 above the L3, Intel's eDRAM, is passed over).
     */
    private Map<Integer, Sourced> readL3(CpuSet online) {
        Map<Integer, Sourced> l3 = new TreeMap<>();
        for (int cpu : online.toList()) {
            String cacheDir = CPU_DIR + "/cpu" + cpu + "/cache";
            Sourced shared = l3At(cacheDir + "/index3");
            if (shared == null) {
                shared = searchL3(cacheDir);
            }
            if (shared != null) {
                l3.put(cpu, new Sourced(shared.cpus().intersection(online), shared.file()));
            }
        }
        return l3;
    }

    /** The L3 at {@code dir} (a cache index); null if there is no such index or it holds another cache. */
    private Sourced l3At(String dir) {
        Optional<String> level = host.read(dir + "/level");
        return level.isPresent() ? l3(dir, parseInt(dir + "/level", level.get())) : null;
    }

    /** The CPUs sharing the cache at {@code dir} if it is an L3 data or unified cache, else null. */
    private Sourced l3(String dir, int level) {
        if (level != 3 || required(dir + "/type").strip().equals("Instruction")) {
            return null;
        }
        Sourced shared = firstSet(dir, "shared_cpu_list", "shared_cpu_map");
        if (shared == null) {
            throw missing(dir, "shared_cpu_list", "shared_cpu_map");
        }
        return shared;
    }

    /** The L3 among all of a CPU's cache indexes, from the highest down; null when it has none. */
    private Sourced searchL3(String cacheDir) {
        List<Integer> indexes = new ArrayList<>();
        for (String name : host.list(cacheDir)) {
            int index = KernelText.numberAfter("index", name);
            if (index >= 0) {
                indexes.add(index);
            }
        }
        indexes.sort(Collections.reverseOrder());
        for (int index : indexes) {
            String dir = cacheDir + "/index" + index;
            int level = requiredInt(dir + "/level");
            if (level < 3) {
                return null;
            }
            Sourced shared = l3(dir, level);
            if (shared != null) {
                return shared;
            }
        }
        return null;
    }

    private SortedMap<Integer, CpuSet> readNumaNodes(CpuSet online) {
        SortedMap<Integer, CpuSet> nodes = new TreeMap<>();
        Map<Integer, String> seenIn = new HashMap<>();
        for (String name : host.list(NODE_DIR)) {
            int node = KernelText.numberAfter("node", name);
            if (node < 0) {
                continue;
            }
            String dir = NODE_DIR + "/" + name;
            Sourced read = firstSet(dir, "cpulist", "cpumap");
            if (read == null) {
                throw missing(dir, "cpulist", "cpumap");
            }
            CpuSet cpus = read.cpus().intersection(online);
            for (int cpu : cpus.toList()) {
                String other = seenIn.putIfAbsent(cpu, read.file());
                if (other != null) {
                    throw problem(read.file(), "lists CPU " + cpu + ", which " + where(other) + " lists too");
                }
            }
            if (!cpus.isEmpty()) {
                nodes.put(node, cpus);
            }
        }
        return nodes;
    }

    private Map<CoreType, CpuSet> readCoreTypes(CpuSet online) {
        Optional<CpuSet> pCores = list(PMU_CORE);
        Optional<CpuSet> eCores = list(PMU_ATOM);
        if (pCores.isPresent() || eCores.isPresent()) {
            CpuSet p = pCores.orElse(CpuSet.empty()).intersection(online);
            CpuSet e = eCores.orElse(CpuSet.empty()).intersection(online);
            if (p.intersects(e)) {
                throw problem(PMU_ATOM, "lists CPUs " + p.intersection(e) + " that " + where(PMU_CORE) + " lists too");
            }
            Map<CoreType, CpuSet> types = new EnumMap<>(CoreType.class);
            putIfAny(types, CoreType.PERFORMANCE, p);
            putIfAny(types, CoreType.EFFICIENCY, e);
            putIfAny(types, CoreType.UNKNOWN, online.difference(p).difference(e));
            return types;
        }
        Map<CoreType, CpuSet> byCapacity = rankBy(online, "cpu_capacity");
        return byCapacity.isEmpty() ? rankBy(online, "cpufreq/base_frequency") : byCapacity;
    }

    /** Splits online CPUs by a per-CPU number: highest PERFORMANCE, lowest EFFICIENCY; empty unless all have it and it differs. */
    private Map<CoreType, CpuSet> rankBy(CpuSet online, String relative) {
        Map<Integer, Long> value = new HashMap<>();
        for (int cpu : online.toList()) {
            String file = CPU_DIR + "/cpu" + cpu + "/" + relative;
            Optional<String> text = host.read(file);
            if (text.isEmpty()) {
                return Map.of();
            }
            value.put(cpu, parseLong(file, text.get()));
        }
        TreeSet<Long> distinct = new TreeSet<>(value.values());
        if (distinct.size() < 2) {
            return Map.of();
        }
        Map<CoreType, CpuSet> types = new EnumMap<>(CoreType.class);
        for (int cpu : online.toList()) {
            long v = value.get(cpu);
            CoreType type = v == distinct.last() ? CoreType.PERFORMANCE
                    : v == distinct.first() ? CoreType.EFFICIENCY : CoreType.UNKNOWN;
            CpuSet same = types.get(type);
            types.put(type, same == null ? CpuSet.of(cpu) : same.union(CpuSet.of(cpu)));
        }
        return types;
    }

    private static void putIfAny(Map<CoreType, CpuSet> types, CoreType type, CpuSet cpus) {
        if (!cpus.isEmpty()) {
            types.put(type, cpus);
        }
    }

    /** Every CPU's set must hold the CPU itself and agree with the sets of the CPUs it lists. */
    private void checkPartition(Map<Integer, Sourced> perCpu) {
        // a set every member of which lists it is checked once, not once per member (16 times per L3 of 16 CPUs)
        Set<CpuSet> agreed = new HashSet<>();
        for (Map.Entry<Integer, Sourced> e : perCpu.entrySet()) {
            int cpu = e.getKey();
            Sourced read = e.getValue();
            if (!read.cpus().contains(cpu)) {
                throw problem(read.file(), "does not list CPU " + cpu + " itself (found '" + read.cpus() + "' among online CPUs)");
            }
            if (!agreed.add(read.cpus())) {
                continue;
            }
            for (int other : read.cpus().toList()) {
                Sourced theirs = perCpu.get(other);
                if (theirs != null && !theirs.cpus().equals(read.cpus())) {
                    throw problem(read.file(), "lists " + read.cpus() + " but " + where(theirs.file())
                            + " lists " + theirs.cpus() + "; the two must agree");
                }
            }
        }
    }

    private static List<CpuSet> distinct(Map<Integer, Sourced> perCpu) {
        Set<CpuSet> distinct = new LinkedHashSet<>();
        for (Sourced s : perCpu.values()) {
            distinct.add(s.cpus());
        }
        List<CpuSet> sorted = new ArrayList<>(distinct);
        Collections.sort(sorted);
        return List.copyOf(sorted);
    }

    /** The key whose CPU set holds {@code cpu}; null when none does. */
    private static <K> K keyHolding(Map<K, CpuSet> sets, int cpu) {
        for (Map.Entry<K, CpuSet> e : sets.entrySet()) {
            if (e.getValue().contains(cpu)) {
                return e.getKey();
            }
        }
        return null;
    }

    private static int indexOfGroup(List<CpuSet> groups, int cpu) {
        for (int i = 0; i < groups.size(); i++) {
            if (groups.get(i).contains(cpu)) {
                return i;
            }
        }
        return -1;
    }

    /** The first of {@code names} in {@code dir} that exists (null: none); names ending in "list" are lists, the rest hex masks. */
    private Sourced firstSet(String dir, String... names) {
        for (String name : names) {
            String file = dir + "/" + name;
            Optional<String> text = host.read(file);
            if (text.isPresent()) {
                return new Sourced(parse(file, text.get(), !name.endsWith("list")), file);
            }
        }
        return null;
    }

    private Optional<CpuSet> list(String file) {
        Optional<String> text = host.read(file);
        return text.isPresent() ? Optional.of(parse(file, text.get(), false)) : Optional.empty();
    }

    private CpuSet parse(String file, String text, boolean mask) {
        try {
            return mask ? CpuSet.parseMask(text) : CpuSet.parseList(text);
        } catch (CpuSetFormatException e) {
            throw problem(file, (mask ? "not a CPU mask: " : "not a CPU list: ") + e.getMessage());
        }
    }

    private String required(String file) {
        Optional<String> text = host.read(file);
        if (text.isEmpty()) {
            throw problem(file, "missing; the kernel shows it for every online CPU. Is the host tree complete?");
        }
        return text.get();
    }

    private int requiredInt(String file) {
        return parseInt(file, required(file));
    }

    private Optional<Integer> optionalInt(String file) {
        Optional<String> text = host.read(file);
        return text.isPresent() ? Optional.of(parseInt(file, text.get())) : Optional.empty();
    }

    private int parseInt(String file, String text) {
        String s = text.strip();
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw problem(file, "expected a number, found '" + s + "'");
        }
    }

    private long parseLong(String file, String text) {
        String s = text.strip();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw problem(file, "expected a number, found '" + s + "'");
        }
    }

    private OrchestratorException missing(String dir, String first, String... alternatives) {
        return problem(dir + "/" + first, "missing (and so " + (alternatives.length == 1 ? "is " : "are ")
                + String.join(", ", alternatives) + "). Is the host tree complete?");
    }

    private OrchestratorException problem(String file, String what) {
        return OrchestratorException.data(where(file) + ": " + what);
    }

    /** The file as the user can find it: the host path on the live host, the path under the tree otherwise. */
    private String where(String file) {
        return host.isLive() ? file : host.resolve(file).toString();
    }
}
