package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Cputune;
import org.vfioorchestrator.domain.CpuTopology;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.topology.CoreType;
import org.vfioorchestrator.topology.Topology;

/** vCPU count and pins vs the profile, and how the pinned CPUs sit on the host's topology. */
final class CpuChecks {
    private CpuChecks() {
    }

    static void run(DoctorInput in, List<Finding> out) {
        Domain d = in.domain();
        if (in.profile().isPresent()) {
            againstProfile(d, in.profile().get(), out);
        } else {
            withoutProfile(in, out);
        }
        pinsTheHostLacks(in, out);
        emulatorPlacement(in, out);
        Optional<List<Integer>> pins = in.vcpuPins();
        if (in.topology().isPresent() && pins.isPresent() && pins.get().size() == d.vcpus()) {
            topology(in, in.topology().get(), pins.get(), out);
        }
    }

    private static void againstProfile(Domain d, ProfileView p, List<Finding> out) {
        if (d.vcpus() != p.vcpuPins().size()) {
            out.add(new Finding(Severity.ERROR, "vcpus.count-vs-profile", "<vcpu>" + d.vcpus() + "</vcpu>, profile pins "
                    + p.vcpuPins().size() + " vCPU(s): " + p.vcpuPins(),
                    "The hook pins vCPUs from the profile, so vCPUs without a pin float over the host's CPUs, or pins"
                            + " point at vCPUs that do not exist.",
                    "<vcpu placement='static'>" + p.vcpuPins().size() + "</vcpu>, or give the profile "
                            + d.vcpus() + " entries in vcpus: pin: [...]"));
        }
        Cputune ct = d.cputune();
        List<String> differ = new ArrayList<>();
        for (Map.Entry<Integer, CpuSet> e : ct.vcpupin().entrySet()) {
            int v = e.getKey();
            CpuSet want = v < p.vcpuPins().size() ? CpuSet.of(p.vcpuPins().get(v)) : CpuSet.empty();
            if (!e.getValue().equals(want)) {
                differ.add("vCPU " + v + ": XML " + e.getValue() + ", profile " + (want.isEmpty() ? "none" : want));
            }
        }
        ct.emulatorpin().filter(e -> !e.equals(p.emulatorCpus()))
                .ifPresent(e -> differ.add("emulator: XML " + e + ", profile " + p.emulatorCpus()));
        ct.iothreadpin().forEach((id, cpus) -> {
            if (!p.iothreadCpus().isEmpty() && !cpus.equals(p.iothreadCpus())) {
                differ.add("iothread " + id + ": XML " + cpus + ", profile " + p.iothreadCpus());
            }
        });
        if (!differ.isEmpty()) {
            out.add(new Finding(Severity.WARNING, "cputune.disagrees-with-profile", String.join("; ", differ),
                    "libvirt pins from <cputune> when QEMU starts and the hook re-pins from the profile, so what the VM"
                            + " really gets depends on timing and the two descriptions drift apart.",
                    "replace <cputune> with: " + cputuneXml(d, p)));
        }
    }

    private static void withoutProfile(DoctorInput in, List<Finding> out) {
        Domain d = in.domain();
        Cputune ct = d.cputune();
        List<Integer> unpinned = new ArrayList<>();
        for (int v = 0; v < d.vcpus(); v++) {
            if (!ct.vcpupin().containsKey(v)) {
                unpinned.add(v);
            }
        }
        if (unpinned.isEmpty()) {
            return;
        }
        String fix = "run 'vfio-orchestrator suggest --domain FILE' for a profile and its <cputune>, or add"
                + " <vcpupin vcpu='N' cpuset='CPU'/> for each vCPU";
        String none = "no <vcpupin> for vCPU(s) " + unpinned + " and no profile given";
        Optional<CpuSet> shared = d.vcpuPlacement().cpuset();
        if (d.vcpuPlacement().auto()) {
            out.add(new Finding(Severity.WARNING, "cputune.vcpus-numad", "<vcpu placement='auto'>; " + none,
                    "numad picks a NUMA node for the VM when it starts: its vCPUs stay on that node but move among its"
                            + " CPUs and share them with host work.",
                    "placement='static' and " + fix.substring(0, 1).toLowerCase(Locale.ROOT) + fix.substring(1)));
        } else if (shared.isPresent()) {
            out.add(new Finding(Severity.WARNING, "cputune.vcpus-share-cpuset", "<vcpu cpuset='" + shared.get() + "'>; "
                    + none,
                    "These vCPUs move among those CPUs, sharing them with each other and, unless <emulatorpin> says"
                            + " otherwise, with QEMU's emulator threads, which libvirt puts there too.",
                    fix));
        } else {
            out.add(new Finding(Severity.WARNING, "cputune.vcpus-unpinned", none,
                    "Floating vCPUs migrate between host CPUs and share them with host work, which is the classic source"
                            + " of frame-time spikes.",
                    fix));
        }
    }

    /**
     * Every CPU list of {@code <vcpu>} and {@code <cputune>} that names CPUs this host does not have online:
     * libvirt writes the pins into the VM's cpuset cgroup, which refuses such CPUs, and they are no CPUs of
     * the VM's. Checked for each list, whatever its size, and lists that could not be read are said too.
     */
    private static void pinsTheHostLacks(DoctorInput in, List<Finding> out) {
        Domain d = in.domain();
        for (String problem : d.pinProblems()) {
            out.add(new Finding(Severity.ERROR, "cputune.pin-unreadable", problem,
                    "This CPU list is not one libvirt accepts, so the VM cannot start with it; doctor checked the other"
                            + " pins.",
                    "write the CPUs as a list such as 2-5,10 (CPU ids 0-" + (CpuSet.MAX_CPUS - 1) + "), or '2-5,^3' to"
                            + " leave one out"));
        }
        if (in.topology().isEmpty()) {
            return;
        }
        CpuSet online = in.topology().get().online();
        List<String> lacking = new ArrayList<>();
        CpuSet missing = CpuSet.empty();
        Map<String, CpuSet> lists = new LinkedHashMap<>();
        d.vcpuPlacement().cpuset().ifPresent(c -> lists.put("<vcpu cpuset='" + c + "'>", c));
        new TreeMap<>(d.cputune().vcpupin()).forEach((v, c) -> lists.put("<vcpupin vcpu='" + v + "' cpuset='" + c + "'/>", c));
        d.cputune().emulatorpin().ifPresent(c -> lists.put("<emulatorpin cpuset='" + c + "'/>", c));
        new TreeMap<>(d.cputune().iothreadpin()).forEach((t, c) -> lists.put("<iothreadpin iothread='" + t + "' cpuset='" + c + "'/>", c));
        for (Map.Entry<String, CpuSet> e : lists.entrySet()) {
            CpuSet gone = e.getValue().difference(online);
            if (!gone.isEmpty()) {
                lacking.add(e.getKey());
                missing = missing.union(gone);
            }
        }
        if (!lacking.isEmpty()) {
            out.add(new Finding(Severity.ERROR, "cputune.pin-offline", String.join(", ", lacking) + "; online CPUs "
                    + online,
                    "Pins to CPUs " + missing + ", which are offline or do not exist here, make QEMU fail to start"
                            + " (libvirt cannot write them into the VM's cpuset: \"cannot set CPU affinity\").",
                    "pin only online CPUs; 'vfio-orchestrator suggest' proposes a set for this host"));
        }
    }

    /**
     * What issue 16 measured on a 1-vCPU TCG guest (cyclictest inside, stress-ng --cpu 2 on the host, two
     * boots each): why the emulator's place depends on the accelerator.
     */
    static final String TCG_MEASURED = "measured on a 1-vCPU TCG guest under stress-ng --cpu 2: p99 3351-4071 us"
            + " with the emulator on a host CPU, 106-141 us with it on the vCPU's CPU";

    /**
     * Where the emulator thread runs, by accelerator: under KVM it emulates devices and runs QEMU's main
     * loop, so it belongs on host CPUs; without KVM (TCG) it also runs the guest's timers, so it belongs
     * with a vCPU, on vCPU 0's CPU. Whoever pins it (the profile, else {@code <emulatorpin>}) is told.
     */
    private static void emulatorPlacement(DoctorInput in, List<Finding> out) {
        Domain d = in.domain();
        CpuSet vm = in.vmCpus();
        if (vm.isEmpty()) {
            return; // the vCPUs float: cputune.vcpus-unpinned says so
        }
        boolean fromProfile = in.profile().isPresent();
        Optional<CpuSet> emu = in.emulatorCpus();
        String where = fromProfile ? "emulator_cpus " + emu.map(CpuSet::toString).orElse("")
                : d.cputune().emulatorpin().map(e -> "<emulatorpin cpuset='" + e + "'/>")
                        .or(() -> d.vcpuPlacement().cpuset().map(c -> "no <emulatorpin>, so libvirt runs it on <vcpu"
                                + " cpuset='" + c + "'>"))
                        .orElse("<cputune> has no <emulatorpin>");
        if (d.tcg()) {
            CpuSet vcpu0 = fromProfile ? CpuSet.of(in.profile().get().vcpuPins().get(0))
                    : d.vcpuCpus(0).orElse(vm);
            if (emu.isEmpty() || !emu.get().intersects(vm)) {
                out.add(new Finding(Severity.WARNING, "cputune.emulator-away-from-vcpus", "<domain type='qemu'> (TCG);"
                        + " " + where + ", vCPUs on " + vm,
                        "Without KVM the emulator thread runs the guest's timers, so away from the vCPUs every guest"
                                + " wake-up waits behind host work (" + TCG_MEASURED + ").",
                        fromProfile ? "leave emulator_cpus out of the profile (under TCG it then goes on vCPU 0's CPU, "
                                + vcpu0 + "), or write emulator_cpus: " + vcpu0
                                : "<emulatorpin cpuset='" + vcpu0 + "'/> in <cputune>: vCPU 0's CPU"));
            }
            return;
        }
        String hostCpus = in.hostCpusText();
        if (emu.isEmpty()) {
            out.add(new Finding(Severity.WARNING, "cputune.emulator-unpinned", where,
                    "QEMU's emulator threads (device emulation, the main loop) then run anywhere, including on the"
                            + " vCPUs' CPUs.",
                    "<emulatorpin cpuset='" + hostCpus + "'/> in <cputune>"));
        } else if (emu.get().intersects(vm)) {
            out.add(new Finding(Severity.WARNING, "cputune.emulator-on-vcpus", where + ", vCPUs on " + vm,
                    "Under KVM the emulator threads only emulate devices and run QEMU's main loop, and on the CPUs they"
                            + " share with vCPUs they preempt them (under TCG, where they also run the guest's timers,"
                            + " the vCPU's CPU is right: " + TCG_MEASURED + ").",
                    fromProfile ? "emulator_cpus: " + hostCpus + " in the profile, or leave it out (host_cpus)"
                            : "<emulatorpin cpuset='" + hostCpus + "'/>"));
        }
    }


    private static void topology(DoctorInput in, Topology t, List<Integer> pins, List<Finding> out) {
        Domain d = in.domain();
        CpuSet vm = CpuSet.of(pins);
        if (!vm.isSubsetOf(t.online())) {
            return; // cputune.pin-offline
        }
        int threads = d.cpuTopology().map(CpuTopology::threads).orElse(1);
        // how the pinned CPUs pair up: vCPUs 2k and 2k+1 on SMT siblings
        boolean pairsAreSiblings = pins.size() % 2 == 0 && pins.size() >= 2;
        for (int i = 0; pairsAreSiblings && i + 1 < pins.size(); i += 2) {
            int a = pins.get(i);
            int b = pins.get(i + 1);
            pairsAreSiblings = a != b && t.siblingsOf(a).contains(b);
        }
        boolean hostHasSmt = t.smt();
        boolean vmSharesCores = vm.stream().anyMatch(c -> t.siblingsOf(c).size() > 1
                && t.siblingsOf(c).difference(CpuSet.of(c)).intersects(vm));
        String pinText = "vCPU pins " + pins + "; guest topology "
                + d.cpuTopology().map(CpuTopology::toXml).orElse("(none: each vCPU is a socket)");
        if (threads == 2 && !pairsAreSiblings) {
            out.add(new Finding(Severity.WARNING, "topology.smt-mismatch", pinText,
                    "The guest schedules vCPU pairs as SMT siblings sharing one core, but on the host they are separate"
                            + " cores (or pairs do not line up), so the guest's scheduler decisions are wrong.",
                    "pin vCPU 2k and 2k+1 to the two threads of one host core (" + siblingPairs(t, vm)
                            + "), or use threads='1' with cores='" + d.vcpus() + "'"));
        } else if (threads == 1 && hostHasSmt && vmSharesCores) {
            out.add(new Finding(Severity.WARNING, "topology.smt-hidden", pinText,
                    "Some vCPUs share host cores as SMT siblings, but the guest sees independent cores and will put two"
                            + " busy threads on one physical core while another idles.",
                    topologyAdvice(d.vcpus(), 2)));
        }
        List<CpuSet> groups = t.l3GroupsTouched(vm);
        if (t.l3GroupsOrPackages().size() > 1 && groups.size() > 1) {
            out.add(new Finding(Severity.WARNING, "topology.l3-spread", "vCPUs on " + vm + " span L3 groups " + groups,
                    "Threads of one guest bounce cache lines between L3 caches, which costs latency on every shared access.",
                    "take the VM's cores from one L3 group (one of " + t.l3GroupsOrPackages() + "); 'suggest' does this"));
        }
        TreeSet<Integer> nodes = t.nodesTouched(vm);
        if (nodes.size() > 1) {
            out.add(new Finding(Severity.WARNING, "topology.numa-spread", "vCPUs on " + vm + " span NUMA nodes " + nodes,
                    "vCPUs on several nodes reach half of the guest's memory over the interconnect.",
                    "pin all vCPUs inside one node: " + t.numaNodes()));
        }
        gpuNode(in, t, vm, nodes, out);
        if (t.hybrid()) {
            TreeSet<CoreType> kinds = new TreeSet<>();
            vm.stream().forEach(c -> t.coreTypeOf(c).ifPresent(kinds::add));
            if (kinds.size() > 1) {
                out.add(new Finding(Severity.WARNING, "topology.mixed-core-types", "vCPUs on " + vm + " mix core types "
                        + coreTypes(t),
                        "The guest cannot tell P- from E-cores, so a game thread lands on a slow core at random.",
                        "pin all vCPUs to one kind, normally the performance cores "
                                + t.coreTypes().get(CoreType.PERFORMANCE)));
            }
        }
    }

    private static void gpuNode(DoctorInput in, Topology t, CpuSet vm, TreeSet<Integer> nodes,
            List<Finding> out) {
        if (t.numaNodes().size() < 2) {
            return;
        }
        for (String addr : in.domain().pciHostdevs()) {
            String file = "/sys/bus/pci/devices/" + addr + "/numa_node";
            Optional<Integer> node = in.host().read(file).map(String::strip).flatMap(s -> {
                try {
                    return Optional.of(Integer.parseInt(s));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }).filter(n -> n >= 0);
            if (node.isPresent() && !nodes.contains(node.get())) {
                out.add(new Finding(Severity.WARNING, "topology.far-from-device", file + " = " + node.get()
                        + "; vCPUs on node(s) " + nodes,
                        "Every DMA and interrupt of " + addr + " crosses the interconnect to reach the vCPUs.",
                        "pin the vCPUs to node " + node.get() + " CPUs " + t.numaNodes().get(node.get())
                                + " ('suggest --gpu " + addr + "' picks them)"));
            }
        }
    }

    /** The same CPUs ordered as sibling pairs, when they are whole cores; else a pointer to suggest. */
    private static String siblingPairs(Topology t, CpuSet vm) {
        List<Integer> out = new ArrayList<>();
        TreeSet<CpuSet> cores = new TreeSet<>();
        vm.stream().forEach(c -> cores.add(t.siblingsOf(c)));
        cores.forEach(c -> out.addAll(c.toList()));
        return out.size() == vm.size() ? "pin: " + out : "'vfio-orchestrator suggest' proposes such pins";
    }

    /** {@code performance 0-11, efficiency 12-19}. */
    private static String coreTypes(Topology t) {
        List<String> parts = new ArrayList<>();
        t.coreTypes().forEach((type, cpus) -> parts.add(type.label() + " " + cpus));
        return String.join(", ", parts);
    }

    static String topologyAdvice(int vcpus, int threads) {
        int t = vcpus % threads == 0 ? threads : 1;
        return "<cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='" + vcpus / t + "' threads='" + t
                + "'/></cpu>";
    }

    /** The {@code <cputune>} block equivalent to a profile's pins. */
    static String cputuneXml(Domain d, ProfileView p) {
        StringBuilder sb = new StringBuilder("<cputune>");
        for (int v = 0; v < p.vcpuPins().size(); v++) {
            sb.append("<vcpupin vcpu='").append(v).append("' cpuset='").append(p.vcpuPins().get(v)).append("'/>");
        }
        if (!p.emulatorCpus().isEmpty()) {
            sb.append("<emulatorpin cpuset='").append(p.emulatorCpus()).append("'/>");
        }
        if (!p.iothreadCpus().isEmpty()) {
            for (int id : d.iothreadIds()) {
                sb.append("<iothreadpin iothread='").append(id).append("' cpuset='").append(p.iothreadCpus()).append("'/>");
            }
        }
        return sb.append("</cputune>").toString();
    }
}
