package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.CpuTopology;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.topology.CpuAllocator;
import org.vfioorchestrator.topology.CpuAllocator.Allocation;
import org.vfioorchestrator.topology.Topology;

/**
 * Proposes a profile: the host keeps its first core (both SMT siblings), one core per 8 on
 * bigger hosts; the vCPUs get what {@link CpuAllocator} chooses (as {@code pin: auto} does);
 * iothreads stay on host CPUs, and so does the emulator under KVM, while under TCG it goes
 * with vCPU 0. Pure.
 */
public final class Suggester {
    private Suggester() {
    }

    public static Suggestion suggest(Topology t, Domain domain, Optional<Integer> gpuNode, boolean allowMixed) {
        int vcpus = domain.vcpus();
        if (t.cores().size() < 2) {
            throw OrchestratorException.data("this host has " + t.cores().size() + " core(s): nothing to give a VM while"
                    + " the host keeps one");
        }
        List<CpuSet> reserved = CpuAllocator.defaultHostCores(t);
        CpuSet reservedCpus = union(reserved);
        List<String> notes = new ArrayList<>();
        notes.add("host keeps " + reserved.size() + " core(s) of " + t.cores().size() + ": " + reservedCpus
                + (reserved.size() > 1 ? " (one per " + CpuAllocator.CORES_PER_HOST_CORE + " cores)"
                        : reserved.get(0).size() > 1 ? " (the first core, all its SMT siblings)" : " (the first core)"));
        CpuAllocator.Request request = new CpuAllocator.Request(vcpus, reservedCpus, t.online().difference(reservedCpus),
                gpuNode, allowMixed);
        Allocation a = CpuAllocator.allocate(t, request).orElseThrow(() -> {
            int most = CpuAllocator.mostThatFit(t, request);
            return OrchestratorException.data(domain.name() + " has " + vcpus + " vCPUs, but at most " + most
                    + " fit on whole cores of one kind while the host keeps " + reservedCpus
                    + ": set <vcpu placement='static'>" + most + "</vcpu> (or fewer)"
                    + (t.hybrid() && !allowMixed ? ", or allow P- and E-cores together with --allow-mixed-cores" : ""));
        });
        List<Integer> pins = a.pins();
        CpuSet vm = a.cpus();
        CpuSet cores = union(a.cores());
        CpuSet host = t.online().difference(vm);
        notes.add("VM: " + vcpus + " vCPU(s) on whole cores " + cores + ", from " + a.group()
                + a.type().map(k -> " (" + k.label() + " cores only)").orElse(""));
        if (cores.size() > vcpus) {
            notes.add("CPU(s) " + cores.difference(vm) + " share a core with the VM but stay with the host"
                    + (vcpus % 2 == 1 ? "; an even vCPU count (" + (vcpus + 1) + " or " + (vcpus - 1)
                            + ") uses whole cores" : ""));
        }
        gpuNode.ifPresent(n -> {
            TreeSet<Integer> nodes = t.nodesTouched(vm);
            notes.add("GPU on NUMA node " + n + (nodes.equals(new TreeSet<>(List.of(n))) ? ": the VM is on the same node"
                    : ": no fitting cores there, the VM is on node(s) " + nodes));
        });

        // iothreads (and the emulator under KVM): host CPUs, on the VM's node when the host keeps any there
        TreeSet<Integer> vmNodes = t.nodesTouched(vm);
        CpuSet helpers = reservedCpus;
        if (!vmNodes.isEmpty() && t.nodesTouched(reservedCpus).stream().noneMatch(vmNodes::contains)) {
            for (CpuSet core : t.cores()) {
                if (core.isSubsetOf(host) && !core.intersects(reservedCpus)
                        && t.nodesTouched(core).stream().anyMatch(vmNodes::contains)) {
                    helpers = core;
                    break;
                }
            }
        }
        CpuSet emulator = helpers;
        if (domain.tcg()) {
            emulator = CpuSet.of(pins.get(0));
            notes.add("emulator thread on vCPU 0's CPU " + emulator + ": without KVM (<domain type='qemu'>) it runs"
                    + " the guest's timers, and on a busy host CPU every guest wake-up waits behind host work;"
                    + " vCPU 0 is the guest's boot CPU, where its device interrupts go unless it moves them");
            notes.add("iothreads on host CPUs " + helpers);
        } else {
            notes.add("emulator and iothreads on host CPUs " + helpers);
        }

        boolean smt = a.cores().stream().allMatch(x -> x.size() == 2) && vcpus % 2 == 0;
        int threads = smt ? 2 : 1;
        CpuTopology topo = new CpuTopology(1, 1, vcpus / threads, threads);
        return new Suggestion(domain.name(), domain.tcg(), host, pins, emulator, helpers, topo, notes);
    }

    private static CpuSet union(List<CpuSet> sets) {
        return sets.stream().reduce(CpuSet.empty(), CpuSet::union);
    }

    /**
     * The profile YAML, in the format the profile loader reads: only what differs from the loader's
     * defaults (so that a default this tool improves later reaches the profile too), with the
     * reasoning and the defaults it relies on as comments.
     */
    public static String yaml(Suggestion s, String header, HostFacts host) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(header).append('\n');
        sb.append("# vm name defaults to the file name (").append(s.vm()).append(".yaml -> ").append(s.vm()).append(")\n");
        for (String n : s.notes()) {
            sb.append("# ").append(n).append('\n');
        }
        sb.append("# guest topology to match, in the domain XML:\n");
        sb.append("#   <cpu mode='host-passthrough'>").append(s.guestTopology().toXml()).append("</cpu>\n");
        sb.append("# left to the defaults: IRQs and unbound workqueues move to the host CPUs, the pass-through\n");
        sb.append("# device's IRQs too; cpusets through cgroup v2 or v1, whichever the host has\n");
        sb.append("host_cpus: ").append(s.hostCpus()).append("   # CPUs the host keeps while the VM runs\n");
        sb.append("vcpus:\n");
        sb.append("  pin: ").append(s.vcpuPins()).append("   # host CPU of vCPU 0, 1, 2, ...\n");
        // emulator_cpus left out: host_cpus under KVM, vCPU 0's CPU under TCG
        CpuSet emulatorDefault = s.tcg() ? CpuSet.of(s.vcpuPins().get(0)) : s.hostCpus();
        boolean emulatorWritten = !s.emulatorCpus().equals(emulatorDefault);
        if (emulatorWritten) {
            sb.append("emulator_cpus: ").append(s.emulatorCpus()).append('\n');
        }
        if (!s.iothreadCpus().equals(emulatorWritten ? s.emulatorCpus() : s.hostCpus())) {
            sb.append("iothread_cpus: ").append(s.iothreadCpus()).append('\n');
        }
        if (!host.workqueueHasCpumask("writeback")) {
            sb.append("workqueues:\n  also: []                      # this host shows no writeback workqueue cpumask\n");
        }
        boolean performance = s.vcpuPins().stream().allMatch(c -> host.governorsOffered(c).contains("performance"));
        sb.append(performance ? "governor: performance           # the VM's CPUs at full speed, no ramp-up delay\n"
                : "# governor: left alone, the VM's CPUs offer no 'performance' governor here\n");
        sb.append("""
                cstates:
                  method: pm_qos                # pm_qos | disable_states | leave
                  max_latency_us: 0
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
