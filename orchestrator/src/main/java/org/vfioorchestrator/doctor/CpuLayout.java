package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;

/**
 * The host CPU layout doctor and suggest reason about: online CPUs, cores (SMT
 * sibling sets), L3 groups, NUMA nodes and, on hybrid CPUs, core types
 * ({@code "performance"} / {@code "efficiency"}; empty when all cores are alike).
 * Every set holds online CPUs only.
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

    /**
     * Reads the layout from sysfs. Interim reader for doctor and suggest; the
     * topology package's reader replaces it once it lands.
     */
    public static CpuLayout read(HostFs fs) {
        String base = "/sys/devices/system/cpu";
        CpuSet online = fs.read(base + "/online").map(CpuSet::parseList).orElseGet(() -> {
            List<Integer> ids = new ArrayList<>();
            for (String name : fs.list(base)) {
                if (name.matches("cpu\\d+") && fs.isDirectory(base + "/" + name + "/topology")
                        && !fs.read(base + "/" + name + "/online").map(String::strip).orElse("1").equals("0")) {
                    ids.add(Integer.parseInt(name.substring(3)));
                }
            }
            return CpuSet.of(ids);
        });
        TreeSet<CpuSet> cores = new TreeSet<>();
        TreeSet<CpuSet> l3 = new TreeSet<>();
        for (int cpu : online.toList()) {
            String dir = base + "/cpu" + cpu;
            CpuSet core = cpus(fs, dir + "/topology/thread_siblings").or(() -> cpus(fs, dir + "/topology/core_cpus"))
                    .orElse(CpuSet.of(cpu)).intersection(online);
            cores.add(core.isEmpty() ? CpuSet.of(cpu) : core);
            CpuSet group = null;
            for (String index : fs.list(dir + "/cache")) {
                if (index.startsWith("index") && fs.read(dir + "/cache/" + index + "/level").map(String::strip)
                        .orElse("").equals("3")) {
                    group = cpus(fs, dir + "/cache/" + index + "/shared_cpu").orElse(null);
                }
            }
            if (group == null) {
                // no L3 reported: the package is the sharing domain
                group = cpus(fs, dir + "/topology/core_siblings").or(() -> cpus(fs, dir + "/topology/package_cpus"))
                        .orElse(online);
            }
            l3.add(group.intersection(online).union(CpuSet.of(cpu)));
        }
        Map<Integer, CpuSet> nodes = new TreeMap<>();
        for (String name : fs.list("/sys/devices/system/node")) {
            if (name.matches("node\\d+")) {
                String node = "/sys/devices/system/node/" + name;
                CpuSet cpus = fs.read(node + "/cpulist").map(CpuSet::parseList)
                        .or(() -> fs.read(node + "/cpumap").map(CpuSet::parseMask))
                        .orElse(CpuSet.empty()).intersection(online);
                if (!cpus.isEmpty()) {
                    nodes.put(Integer.parseInt(name.substring(4)), cpus);
                }
            }
        }
        if (nodes.isEmpty()) {
            nodes.put(0, online);
        }
        return new CpuLayout(online, new ArrayList<>(cores), new ArrayList<>(l3), nodes, coreTypes(fs, online, cores));
    }

    /** {@code NAME_list} in list format, else {@code NAME} (or {@code NAME_map}) as a mask: old kernels have masks only. */
    private static Optional<CpuSet> cpus(HostFs fs, String base) {
        Optional<String> list = fs.read(base + "_list");
        if (list.isPresent()) {
            return list.map(CpuSet::parseList);
        }
        return fs.read(base).or(() -> fs.read(base + "_map")).map(CpuSet::parseMask);
    }

    /**
     * Intel hybrid: the kernel's cpu_core / cpu_atom PMU devices list the CPUs of each
     * kind. Older kernels lack them: then SMT cores that reach a higher maximum
     * frequency than single-thread cores are taken as P-cores (what hwloc does too).
     */
    private static Map<String, CpuSet> coreTypes(HostFs fs, CpuSet online, TreeSet<CpuSet> cores) {
        Map<String, CpuSet> types = new LinkedHashMap<>();
        Optional<String> p = fs.read("/sys/devices/cpu_core/cpus");
        Optional<String> e = fs.read("/sys/devices/cpu_atom/cpus");
        if (p.isPresent() && e.isPresent()) {
            types.put(PERFORMANCE, CpuSet.parseList(p.get()).intersection(online));
            types.put(EFFICIENCY, CpuSet.parseList(e.get()).intersection(online));
            return types;
        }
        Map<Long, CpuSet> byFreq = new TreeMap<>();
        for (int cpu : online.toList()) {
            Optional<String> f = fs.read("/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/cpuinfo_max_freq");
            if (f.isEmpty()) {
                return Map.of();
            }
            byFreq.merge(Long.parseLong(f.get().strip()), CpuSet.of(cpu), CpuSet::union);
        }
        if (byFreq.size() != 2) {
            return Map.of();
        }
        List<CpuSet> kinds = new ArrayList<>(byFreq.values());
        CpuSet slow = kinds.get(0);
        CpuSet fast = kinds.get(1);
        boolean slowSingle = cores.stream().filter(c -> c.isSubsetOf(slow)).allMatch(c -> c.size() == 1);
        boolean fastSmt = cores.stream().filter(c -> c.isSubsetOf(fast)).anyMatch(c -> c.size() > 1);
        if (slowSingle && fastSmt) {
            types.put(PERFORMANCE, fast);
            types.put(EFFICIENCY, slow);
        }
        return types;
    }
}
