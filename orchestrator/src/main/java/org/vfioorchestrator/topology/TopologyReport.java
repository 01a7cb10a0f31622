package org.vfioorchestrator.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * The {@code topology} command's output: a text outline (summary line, then
 * package, L3 group and core lines) or a JSON-ready map. Cores and L3 groups
 * are numbered by their position in {@link Topology#cores()} and
 * {@link Topology#l3Groups()} (machine-wide, like lscpu's CORE column), not by
 * the kernel's {@code core_id}, which repeats across packages.
 */
public final class TopologyReport {
    private TopologyReport() {
    }

    /** One line per fact, newline-terminated. */
    public static String text(Topology t) {
        StringBuilder sb = new StringBuilder();
        sb.append(summary(t)).append('\n');
        List<CpuSet> cores = t.cores();
        List<CpuSet> l3 = t.l3Groups();
        for (Map.Entry<Integer, CpuSet> pkg : t.packages().entrySet()) {
            CpuSet pkgCpus = pkg.getValue();
            sb.append("package ").append(pkg.getKey()).append(": cpus ").append(pkgCpus).append('\n');
            CpuSet shown = CpuSet.empty();
            for (int g = 0; g < l3.size(); g++) {
                CpuSet group = l3.get(g).intersection(pkgCpus);
                if (group.isEmpty()) {
                    continue;
                }
                sb.append("  L3 group ").append(g).append(": cpus ").append(group).append('\n');
                for (int c = 0; c < cores.size(); c++) {
                    if (cores.get(c).isSubsetOf(group)) {
                        coreLine(sb, "    ", t, c);
                    }
                }
                shown = shown.union(group);
            }
            for (int c = 0; c < cores.size(); c++) {
                CpuSet core = cores.get(c);
                if (core.isSubsetOf(pkgCpus) && !core.isSubsetOf(shown)) {
                    coreLine(sb, "  ", t, c);
                }
            }
        }
        t.numaNodes().forEach((node, cpus) -> sb.append("NUMA node ").append(node).append(": cpus ").append(cpus).append('\n'));
        if (!t.coreTypes().isEmpty()) {
            List<String> parts = new ArrayList<>();
            t.coreTypes().forEach((type, cpus) -> parts.add(type.label() + " cpus " + cpus));
            sb.append("core types: ").append(String.join(", ", parts)).append('\n');
        }
        if (!t.offline().isEmpty()) {
            sb.append("offline: cpus ").append(t.offline()).append('\n');
        }
        return sb.toString();
    }

    private static void coreLine(StringBuilder sb, String indent, Topology t, int index) {
        CpuSet core = t.cores().get(index);
        sb.append(indent).append("core ").append(index).append(": cpus ").append(core);
        if (!t.coreTypes().isEmpty()) {
            t.cpu(core.first()).ifPresent(cpu -> sb.append(" (").append(cpu.type().label()).append(')'));
        }
        sb.append('\n');
    }

    /** E.g. {@code 32 CPUs online (16 cores x 2 threads), 1 package, 2 L3 groups, 1 NUMA node}. */
    public static String summary(Topology t) {
        List<String> parts = new ArrayList<>();
        parts.add(count(t.online().size(), "CPU") + " online (" + coreShape(t.cores()) + ")");
        if (!t.offline().isEmpty()) {
            parts.add(t.offline().size() + " offline");
        }
        parts.add(count(t.packages().size(), "package"));
        parts.add(t.l3Groups().isEmpty() ? "no L3 cache information" : count(t.l3Groups().size(), "L3 group"));
        parts.add(t.numaNodes().isEmpty() ? "no NUMA information" : count(t.numaNodes().size(), "NUMA node"));
        return String.join(", ", parts);
    }

    private static String coreShape(List<CpuSet> cores) {
        TreeMap<Integer, Integer> coresByThreads = new TreeMap<>((a, b) -> Integer.compare(b, a));
        cores.forEach(c -> coresByThreads.merge(c.size(), 1, Integer::sum));
        if (coresByThreads.size() == 1) {
            int threads = coresByThreads.firstKey();
            return count(cores.size(), "core") + " x " + count(threads, "thread");
        }
        List<String> kinds = new ArrayList<>();
        coresByThreads.forEach((threads, n) -> kinds.add(n + " x " + count(threads, "thread")));
        return count(cores.size(), "core") + ": " + String.join(", ", kinds);
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * The topology as plain maps and lists for a JSON writer; CPU sets are in the
     * kernel's list format ({@code "0-7,16-23"}).
     */
    public static Map<String, Object> json(Topology t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("present", t.present().toString());
        m.put("online", t.online().toString());
        m.put("offline", t.offline().toString());
        m.put("nrCpuIds", t.nrCpuIds());
        m.put("smt", t.smt());
        m.put("packages", sets(t.packages()));
        m.put("l3Groups", t.l3Groups().stream().map(CpuSet::toString).toList());
        m.put("numaNodes", sets(t.numaNodes()));
        m.put("cores", t.cores().stream().map(CpuSet::toString).toList());
        Map<String, Object> types = new LinkedHashMap<>();
        t.coreTypes().forEach((type, cpus) -> types.put(type.label(), cpus.toString()));
        m.put("coreTypes", types);
        List<Map<String, Object>> cpus = new ArrayList<>();
        for (Cpu cpu : t.cpus()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("id", cpu.id());
            c.put("package", cpu.packageId());
            c.put("die", cpu.dieId());
            c.put("coreId", cpu.coreId());
            c.put("core", t.cores().indexOf(t.siblingsOf(cpu.id())));
            c.put("l3", cpu.l3Id());
            c.put("numaNode", cpu.numaNode());
            c.put("type", cpu.type().label());
            cpus.add(c);
        }
        m.put("cpus", cpus);
        return m;
    }

    private static Map<String, Object> sets(Map<Integer, CpuSet> byId) {
        Map<String, Object> out = new LinkedHashMap<>();
        byId.forEach((id, cpus) -> out.put(Integer.toString(id), cpus.toString()));
        return out;
    }
}
