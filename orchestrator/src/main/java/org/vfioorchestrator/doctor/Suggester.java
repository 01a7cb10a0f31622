package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.CpuTopology;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.profile.HostFacts;

/**
 * Proposes a profile: the host keeps its first core (both SMT siblings), one core
 * per 8 on bigger hosts; the VM gets whole cores from one L3 group, else one NUMA
 * node, else the whole host, preferring the GPU's node; the emulator and iothreads
 * stay on host CPUs; P- and E-cores are never mixed unless allowed. Pure.
 */
public final class Suggester {
    /** Cores per core the host keeps. */
    static final int CORES_PER_HOST_CORE = 8;

    private Suggester() {
    }

    /** A set of whole cores the VM could take, and how it was found. */
    private record Candidate(String scope, String describe, List<CpuSet> cores, Optional<Integer> node,
            Optional<String> kind, boolean withHost) {
        int cpus() {
            return cores.stream().mapToInt(CpuSet::size).sum();
        }

        int first() {
            return cores.isEmpty() ? Integer.MAX_VALUE : cores.get(0).first();
        }
    }

    public static Suggestion suggest(CpuLayout layout, Domain domain, Optional<Integer> gpuNode, boolean allowMixed) {
        int vcpus = domain.vcpus();
        List<CpuSet> cores = layout.cores();
        if (cores.size() < 2) {
            throw OrchestratorException.data("this host has " + cores.size() + " core(s): nothing to give a VM while the"
                    + " host keeps one");
        }
        int hostCores = Math.max(1, cores.size() / CORES_PER_HOST_CORE);
        List<CpuSet> reserved = cores.subList(0, hostCores);
        List<CpuSet> available = cores.subList(hostCores, cores.size());
        CpuSet reservedCpus = union(reserved);
        List<String> notes = new ArrayList<>();
        notes.add("host keeps " + hostCores + " core(s) of " + cores.size() + ": " + reservedCpus
                + (hostCores > 1 ? " (one per " + CORES_PER_HOST_CORE + " cores)" : " (the first core, both SMT siblings)"));

        List<Optional<String>> kinds = new ArrayList<>();
        if (layout.hybrid() && !allowMixed) {
            kinds.add(Optional.of(CpuLayout.PERFORMANCE));
            kinds.add(Optional.of(CpuLayout.EFFICIENCY));
        } else {
            kinds.add(Optional.empty());
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Optional<String> kind : kinds) {
            for (CpuSet g : layout.l3Groups()) {
                candidates.add(candidate("l3", "L3 group " + g, available, g, layout, kind, reservedCpus));
            }
            layout.numaNodes().forEach((n, cpus) -> candidates.add(candidate("numa", "NUMA node " + n, available, cpus,
                    layout, kind, reservedCpus)));
            candidates.add(candidate("host", "the whole host", available, layout.online(), layout, kind, reservedCpus));
        }
        Optional<Candidate> chosen = Optional.empty();
        for (String scope : List.of("l3", "numa", "host")) {
            chosen = candidates.stream().filter(c -> c.scope().equals(scope) && c.cpus() >= vcpus)
                    .min(Comparator.<Candidate>comparingInt(c -> gpuNode.isPresent() && c.node().equals(gpuNode) ? 0 : 1)
                            .thenComparingInt(c -> c.kind().map(k -> k.equals(CpuLayout.PERFORMANCE) ? 0 : 1).orElse(0))
                            // an L3 group (node) the host's own core does not use keeps host cache traffic away
                            .thenComparingInt(c -> c.withHost() ? 1 : 0)
                            .thenComparingInt(Candidate::first));
            if (chosen.isPresent()) {
                break;
            }
        }
        if (chosen.isEmpty()) {
            int most = candidates.stream().mapToInt(Candidate::cpus).max().orElse(0);
            throw OrchestratorException.data(domain.name() + " has " + vcpus + " vCPUs, but at most " + most
                    + " fit on whole cores of one kind while the host keeps " + reservedCpus
                    + ": set <vcpu placement='static'>" + most + "</vcpu> (or fewer)"
                    + (layout.hybrid() && !allowMixed ? ", or allow P- and E-cores together with --allow-mixed-cores" : ""));
        }
        Candidate c = chosen.get();
        List<CpuSet> taken = pickCores(c.cores(), vcpus);
        List<Integer> pins = new ArrayList<>();
        for (CpuSet core : taken) {
            for (int cpu : core.toList()) {
                if (pins.size() < vcpus) {
                    pins.add(cpu);
                }
            }
        }
        CpuSet vm = CpuSet.of(pins);
        CpuSet host = layout.online().difference(vm);
        notes.add("VM: " + vcpus + " vCPU(s) on whole cores " + union(taken) + ", from " + c.describe()
                + c.kind().map(k -> " (" + k + " cores only)").orElse(""));
        if (union(taken).size() > vcpus) {
            notes.add("CPU(s) " + union(taken).difference(vm) + " share a core with the VM but stay with the host"
                    + (vcpus % 2 == 1 ? "; an even vCPU count (" + (vcpus + 1) + " or " + (vcpus - 1)
                            + ") uses whole cores" : ""));
        }
        gpuNode.ifPresent(n -> {
            TreeSet<Integer> nodes = layout.nodesTouched(vm);
            notes.add("GPU on NUMA node " + n + (nodes.equals(new TreeSet<>(List.of(n))) ? ": the VM is on the same node"
                    : ": no fitting cores there, the VM is on node(s) " + nodes));
        });

        // the emulator and iothreads: host CPUs, on the VM's node when the host keeps any there
        TreeSet<Integer> vmNodes = layout.nodesTouched(vm);
        CpuSet helpers = reservedCpus;
        if (!vmNodes.isEmpty() && layout.nodesTouched(reservedCpus).stream().noneMatch(vmNodes::contains)) {
            for (CpuSet core : available) {
                if (!core.intersects(vm) && layout.nodesTouched(core).stream().anyMatch(vmNodes::contains)) {
                    helpers = core;
                    break;
                }
            }
        }
        notes.add("emulator and iothreads on host CPUs " + helpers);

        boolean smt = taken.stream().allMatch(x -> x.size() == 2) && vcpus % 2 == 0;
        int threads = smt ? 2 : 1;
        CpuTopology topo = new CpuTopology(1, 1, vcpus / threads, threads);
        return new Suggestion(domain.name(), host, pins, helpers, helpers, topo, notes);
    }

    /**
     * Whole cores, in order, that add up to exactly {@code vcpus} CPUs when the
     * sizes allow it (a single-thread core fills an odd gap); else one core is used
     * in part, the smallest that covers the rest.
     */
    static List<CpuSet> pickCores(List<CpuSet> cores, int vcpus) {
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

    private static Candidate candidate(String scope, String describe, List<CpuSet> available, CpuSet within,
            CpuLayout layout, Optional<String> kind, CpuSet hostKeeps) {
        List<CpuSet> cores = available.stream().filter(core -> core.isSubsetOf(within))
                .filter(core -> kind.isEmpty() || layout.coreTypeOf(core.first()).equals(kind)).toList();
        TreeSet<Integer> nodes = layout.nodesTouched(within);
        Optional<Integer> node = nodes.size() == 1 ? Optional.of(nodes.first()) : Optional.empty();
        return new Candidate(scope, describe, cores, node, kind, within.intersects(hostKeeps));
    }

    private static CpuSet union(List<CpuSet> sets) {
        return sets.stream().reduce(CpuSet.empty(), CpuSet::union);
    }

    /** The profile YAML, in the format the profile loader reads, with the reasoning as comments. */
    public static String yaml(Suggestion s, String header, HostFacts host) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(header).append('\n');
        sb.append("# vm name defaults to the file name (").append(s.vm()).append(".yaml -> ").append(s.vm()).append(")\n");
        for (String n : s.notes()) {
            sb.append("# ").append(n).append('\n');
        }
        sb.append("# guest topology to match, in the domain XML:\n");
        sb.append("#   <cpu mode='host-passthrough'>").append(s.guestTopology().toXml()).append("</cpu>\n");
        sb.append("host_cpus: ").append(s.hostCpus()).append("   # CPUs the host keeps while the VM runs\n");
        sb.append("vcpus:\n");
        sb.append("  pin: ").append(s.vcpuPins()).append("   # host CPU of vCPU 0, 1, 2, ...\n");
        sb.append("emulator_cpus: ").append(s.emulatorCpus()).append('\n');
        sb.append("iothread_cpus: ").append(s.iothreadCpus()).append('\n');
        boolean writeback = host.workqueueHasCpumask("writeback");
        boolean performance = s.vcpuPins().stream().allMatch(c -> host.governorsOffered(c).contains("performance"));
        sb.append("""
                irqs:
                  move_to_host: true
                  passthrough: host             # host | vm | leave: the pass-through device's own (vfio) IRQs
                workqueues:
                  move_to_host: true
                """);
        sb.append(writeback ? "  also: [writeback]\n"
                : "  also: []                      # this host shows no writeback workqueue cpumask\n");
        sb.append(performance ? "governor: performance           # or: leave\n"
                : "governor: leave                 # the VM's CPUs offer no 'performance' governor here\n");
        sb.append("""
                cstates:
                  method: pm_qos                # pm_qos | disable_states | leave
                  max_latency_us: 0
                cgroups:
                  mode: auto                    # auto | v2 | v1 | none
                measure:
                  after_start: false
                  duration: 30s
                  max_latency_us: 280
                """);
        return sb.toString();
    }

    /** The {@code <cputune>} block and {@code <cpu>} topology equivalent to the suggestion. */
    public static String domainXml(Suggestion s, Domain d) {
        StringBuilder sb = new StringBuilder("<cputune>\n");
        for (int v = 0; v < s.vcpuPins().size(); v++) {
            sb.append("  <vcpupin vcpu='").append(v).append("' cpuset='").append(s.vcpuPins().get(v)).append("'/>\n");
        }
        sb.append("  <emulatorpin cpuset='").append(s.emulatorCpus()).append("'/>\n");
        for (int id : d.iothreadIds()) {
            sb.append("  <iothreadpin iothread='").append(id).append("' cpuset='").append(s.iothreadCpus()).append("'/>\n");
        }
        sb.append("</cputune>\n");
        if (d.iothreads() == 0) {
            sb.append("<!-- no <iothreads>: add <iothreads>1</iothreads>, iothread='1' on each virtio disk's <driver>,"
                    + " and <iothreadpin iothread='1' cpuset='").append(s.iothreadCpus()).append("'/> above -->\n");
        }
        sb.append("<cpu mode='host-passthrough' check='none'>\n  ").append(s.guestTopology().toXml()).append("\n</cpu>\n");
        return sb.toString();
    }
}
