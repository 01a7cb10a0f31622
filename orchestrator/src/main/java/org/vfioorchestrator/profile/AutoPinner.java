package org.vfioorchestrator.profile;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * Resolves {@code pin: auto}: whole cores only (SMT siblings together, so
 * the host never shares a core with a vCPU), from one L3 group when one has
 * room, siblings adjacent so vCPU 2k and 2k+1 form a guest core.
 */
final class AutoPinner {
    private AutoPinner() {
    }

    static List<Integer> pick(HostFacts host, CpuSet pool, int count) {
        List<CpuSet> wholeCores = host.topology().cores().stream().filter(c -> c.isSubsetOf(pool)).toList();
        // Prefer the first L3 group that holds enough whole cores; otherwise take cores in order.
        for (CpuSet l3 : host.topology().l3Groups()) {
            List<CpuSet> inGroup = wholeCores.stream().filter(c -> c.isSubsetOf(l3)).toList();
            if (threads(inGroup) >= count) {
                return take(inGroup, count);
            }
        }
        return take(wholeCores, count);
    }

    private static int threads(List<CpuSet> cores) {
        return cores.stream().mapToInt(CpuSet::size).sum();
    }

    private static List<Integer> take(List<CpuSet> cores, int count) {
        List<Integer> out = new ArrayList<>();
        for (CpuSet core : cores) {
            if (out.size() + core.size() > count) {
                continue; // never split a core between the VM and nobody
            }
            out.addAll(core.toList());
            if (out.size() == count) {
                break;
            }
        }
        return out;
    }
}
