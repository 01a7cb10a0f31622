package org.vfioorchestrator.tune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.tunable.cstate.CStates;
import org.vfioorchestrator.tunable.irq.Irqs;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The placements {@code tune} tries for a VM, one change from its profile at a time (pure): the emulator
 * thread on the host's CPUs, on vCPU 0's CPU, on that CPU's SMT sibling, or on a CPU of its own taken from
 * the host; iothreads on the host's CPUs or vCPU 0's; C-states held or left; a pass-through device's IRQs
 * with the host or the VM. A placement the profile already has is not tried twice.
 */
public final class Candidates {
    /** What tune cannot try through the journal, and why; printed with the candidates. */
    public static final List<String> NOT_TRIED = List.of("iothread polling (<iothread><poll> in the domain XML): libvirt"
            + " sets it when the VM starts, not something the hook changes; try it with 'virsh iothreadset'");

    private Candidates() {
    }

    public static List<Candidate> of(Profile base, Domain domain, Topology topology) {
        boolean tcg = "qemu".equals(domain.type());
        List<Candidate> out = new ArrayList<>();
        out.add(Candidate.asIs());
        if (base.vcpuPins().isEmpty()) {
            return out;
        }
        int vcpu0 = base.vcpuPins().get(0);
        Set<CpuSet> emulatorTried = new LinkedHashSet<>(List.of(base.emulatorCpus(tcg)));
        if (emulatorTried.add(base.hostCpus())) {
            out.add(new Candidate("emulator on the host's CPUs " + base.hostCpus(),
                    Map.of("emulator_cpus", base.hostCpus().toString())));
        }
        if (emulatorTried.add(CpuSet.of(vcpu0))) {
            out.add(new Candidate("emulator on vCPU 0's CPU " + vcpu0, Map.of("emulator_cpus", Integer.toString(vcpu0))));
        }
        CpuSet sibling = topology.siblingsOf(vcpu0).difference(CpuSet.of(vcpu0));
        if (!sibling.isEmpty() && emulatorTried.add(sibling)) {
            out.add(new Candidate("emulator on vCPU 0's sibling " + sibling, Map.of("emulator_cpus", sibling.toString())));
        }
        if (base.hostCpus().size() >= 2) {
            int own = base.hostCpus().toList().get(base.hostCpus().size() - 1);
            CpuSet host = base.hostCpus().difference(CpuSet.of(own));
            if (emulatorTried.add(CpuSet.of(own))) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("host_cpus", host.toString());
                o.put("emulator_cpus", Integer.toString(own));
                out.add(new Candidate("emulator on CPU " + own + " of its own, the host on " + host, o));
            }
        }
        if (domain.iothreads() > 0) {
            Set<CpuSet> iothreadsTried = new LinkedHashSet<>(List.of(base.iothreadCpus()));
            if (iothreadsTried.add(base.hostCpus())) {
                out.add(new Candidate("iothreads on the host's CPUs " + base.hostCpus(),
                        Map.of("iothread_cpus", base.hostCpus().toString())));
            }
            if (iothreadsTried.add(CpuSet.of(vcpu0))) {
                out.add(new Candidate("iothreads on vCPU 0's CPU " + vcpu0, Map.of("iothread_cpus", Integer.toString(vcpu0))));
            }
        }
        if (base.settings(CStates.UNIT).method() == CStates.Method.LEAVE) {
            out.add(new Candidate("C-states held at polling (pm_qos)",
                    Map.of("cstates", Map.of("method", "pm_qos", "max_latency_us", 0))));
        } else {
            out.add(new Candidate("C-states left to the kernel", Map.of("cstates", Map.of("method", "leave"))));
        }
        if (!domain.hostdevs().isEmpty()) {
            Irqs.Settings irqs = base.settings(Irqs.UNIT);
            Irqs.Passthrough other = irqs.passthrough() == Irqs.Passthrough.VM ? Irqs.Passthrough.HOST : Irqs.Passthrough.VM;
            String name = other.name().toLowerCase(java.util.Locale.ROOT);
            out.add(new Candidate("pass-through IRQs with the " + name,
                    Map.of("irqs", Map.of("move_to_host", irqs.moveToHost(), "passthrough", name))));
        }
        return out;
    }

    /**
     * The profile text for a candidate: the base text itself for the profile as it is, else with the
     * candidate's keys replaced, as SnakeYAML writes it (block style; the base's comments do not survive,
     * its keys and values do).
     */
    public static String text(String baseText, Candidate c) {
        if (c.overrides().isEmpty()) {
            return baseText;
        }
        Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(baseText);
        Map<String, Object> m = new LinkedHashMap<>();
        if (c.overrides().containsKey("vm")) {
            m.put("vm", c.overrides().get("vm")); // first, as a reader looks for it
        }
        if (loaded instanceof Map<?, ?> map) {
            map.forEach((k, v) -> m.put(String.valueOf(k), v));
        }
        m.putAll(c.overrides());
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(new Representer(options), options).dump(m);
    }
}
