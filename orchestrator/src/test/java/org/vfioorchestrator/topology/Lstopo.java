package org.vfioorchestrator.topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * hwloc's {@code lstopo} text output, parsed into the facts a topology reader
 * must agree with. Nesting is by indentation; memory children (NUMANode)
 * cover their parent's PUs.
 */
final class Lstopo {
    private static final Pattern OBJECT = Pattern.compile("^( *)([A-Za-z0-9]+)(?: L#(\\d+))?(?: \\((.*)\\))?$");
    private static final Pattern PHYSICAL = Pattern.compile("(?:^| )P#(\\d+)");
    private static final Pattern DEPTH = Pattern.compile("^\\s*depth \\d+:\\s+(\\d+) (\\w+) .*");
    private static final Pattern NOT_REPRESENTED = Pattern.compile("^(\\d+) processors not represented in topology: (\\S+)$");
    private static final Pattern CPU_KIND = Pattern.compile("^CPU kind #(\\d+) efficiency (\\d+) cpuset (\\S+)$");

    /** One object of the tree. */
    static final class Node {
        final String type;
        final int physical;
        final int indent;
        final List<Node> children = new ArrayList<>();
        Node parent;

        Node(String type, int physical, int indent) {
            this.type = type;
            this.physical = physical;
            this.indent = indent;
        }

        CpuSet pus() {
            if (type.equals("PU")) {
                return CpuSet.of(physical);
            }
            if (type.equals("NUMANode")) {
                return parent.pus();
            }
            CpuSet all = CpuSet.empty();
            for (Node child : children) {
                if (!child.type.equals("NUMANode")) {
                    all = all.union(child.pus());
                }
            }
            return all;
        }
    }

    final List<Node> all = new ArrayList<>();
    /** From the "depth N: count Type" summary lines. */
    final Map<String, Integer> counts = new TreeMap<>();
    CpuSet notRepresented = CpuSet.empty();
    int notRepresentedCount;
    /** hwloc's CPU kinds by rank: 0 is the most power-efficient kind (E-cores), the highest the most performant. */
    final Map<Integer, CpuSet> cpuKinds = new TreeMap<>();

    static Lstopo parse(Path file) throws IOException {
        Lstopo l = new Lstopo();
        Deque<Node> stack = new ArrayDeque<>();
        boolean inTree = true;
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            Matcher depth = DEPTH.matcher(line);
            if (depth.matches()) {
                inTree = false;
                l.counts.put(depth.group(2), Integer.parseInt(depth.group(1)));
                continue;
            }
            Matcher nr = NOT_REPRESENTED.matcher(line);
            if (nr.matches()) {
                l.notRepresentedCount = Integer.parseInt(nr.group(1));
                l.notRepresented = hwlocBitmap(nr.group(2));
                continue;
            }
            Matcher kind = CPU_KIND.matcher(line);
            if (kind.matches()) {
                l.cpuKinds.put(Integer.parseInt(kind.group(2)), hwlocBitmap(kind.group(3)));
                continue;
            }
            Matcher m = OBJECT.matcher(line);
            if (!inTree || !m.matches()) {
                continue;
            }
            Matcher p = PHYSICAL.matcher(m.group(4) == null ? "" : m.group(4));
            Node node = new Node(m.group(2), p.find() ? Integer.parseInt(p.group(1)) : -1, m.group(1).length());
            while (!stack.isEmpty() && stack.peek().indent >= node.indent) {
                stack.pop();
            }
            if (!stack.isEmpty()) {
                node.parent = stack.peek();
                node.parent.children.add(node);
            }
            stack.push(node);
            l.all.add(node);
        }
        return l;
    }

    /** hwloc prints bitmaps as 0x-prefixed 32-bit groups: {@code 0x00000001,0x00000000}. */
    private static CpuSet hwlocBitmap(String text) {
        return CpuSet.parseMask(text.replace("0x", ""));
    }

    List<Node> ofType(String type) {
        return all.stream().filter(n -> n.type.equals(type)).toList();
    }

    CpuSet pus() {
        return CpuSet.of(ofType("PU").stream().map(n -> n.physical).toList());
    }

    Map<Integer, CpuSet> packages() {
        Map<Integer, CpuSet> m = new TreeMap<>();
        ofType("Package").forEach(n -> m.put(n.physical, n.pus()));
        return m;
    }

    Map<Integer, CpuSet> numaNodes() {
        Map<Integer, CpuSet> m = new TreeMap<>();
        ofType("NUMANode").forEach(n -> m.put(n.physical, n.pus()));
        return m;
    }

    Set<CpuSet> cores() {
        return sets("Core");
    }

    Set<CpuSet> l3Groups() {
        return sets("L3Cache");
    }

    /** Core's PUs to the core's P# (the kernel's core_id). */
    Map<CpuSet, Integer> coreIds() {
        Map<CpuSet, Integer> m = new java.util.HashMap<>();
        ofType("Core").forEach(n -> m.put(n.pus(), n.physical));
        return m;
    }

    private Set<CpuSet> sets(String type) {
        Set<CpuSet> s = new HashSet<>();
        ofType(type).forEach(n -> s.add(n.pus()));
        return s;
    }
}
