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
        List<CpuSet> wholeCores = coresIn(host.topology().cores(), pool);
        // Prefer the first L3 group that holds enough whole cores; otherwise take cores in order.
        for (CpuSet l3 : host.topology().l3Groups()) {
            List<CpuSet> inGroup = coresIn(wholeCores, l3);
            if (threads(inGroup) >= count) {
                return take(inGroup, count);
            }
        }
        return take(wholeCores, count);
    }

    private static List<CpuSet> coresIn(List<CpuSet> cores, CpuSet cpus) {
        List<CpuSet> out = new ArrayList<>();
        for (CpuSet core : cores) {
            if (core.isSubsetOf(cpus)) {
                out.add(core);
            }
        }
        return out;
    }

    private static int threads(List<CpuSet> cores) {
        int n = 0;
        for (CpuSet core : cores) {
            n += core.size();
        }
        return n;
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
