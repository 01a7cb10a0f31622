package org.vfioorchestrator.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What this tool needs from a libvirt domain XML. {@code iothreads()} is the
 * {@code <iothreads>} count (0 when absent); {@code iothreadIds()} the ids in use
 * (from {@code <iothreadids>}, else 1..iothreads); {@code iothreadPolling()} the
 * iothreads that carry a {@code <poll>} element. {@code pinProblems} are the CPU lists
 * of {@code <vcpu>} and {@code <cputune>} that could not be read, each said in one
 * sentence: doctor reports them and checks the rest. {@code guestAgentChannel}: whether the devices
 * hold the virtio channel the QEMU guest agent talks through.
 */
public record Domain(String sourceName, String name, String type, int vcpus, VcpuPlacement vcpuPlacement,
        int iothreads, List<Integer> iothreadIds, Optional<CpuTopology> cpuTopology, Cputune cputune,
        List<Disk> disks, List<Controller> controllers, List<HostDev> hostdevs, List<IoThreadPoll> iothreadPolling,
        List<String> pinProblems, boolean guestAgentChannel) {

    /** The virtio serial port name qemu-guest-agent listens on. */
    public static final String GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";

    /** What to add to {@code <devices>} so that libvirt can reach the guest agent. */
    public static final String GUEST_AGENT_CHANNEL_XML = "<channel type='unix'><target type='virtio' name='"
            + GUEST_AGENT_CHANNEL + "'/></channel>";

    public Domain {
        iothreadIds = List.copyOf(iothreadIds);
        disks = List.copyOf(disks);
        controllers = List.copyOf(controllers);
        hostdevs = List.copyOf(hostdevs);
        iothreadPolling = List.copyOf(iothreadPolling);
        pinProblems = List.copyOf(pinProblems);
    }

    /** The controller a disk's {@code <address controller>} names, of the disk's bus; empty when the XML has none. */
    public Optional<Controller> controllerOf(Disk d) {
        for (Controller c : controllers) {
            if (c.type().equals(d.bus()) && c.index() == d.controller()) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Where vCPU {@code v} may run: its {@code <vcpupin>}, else {@code <vcpu cpuset>}; empty when it floats. */
    public Optional<CpuSet> vcpuCpus(int v) {
        CpuSet pin = cputune.vcpupin().get(v);
        return pin != null ? Optional.of(pin) : vcpuPlacement.cpuset();
    }

    /** QEMU without KVM, {@code <domain type='qemu'>}: TCG emulates the guest's CPUs in software. */
    public boolean tcg() {
        return "qemu".equals(type);
    }

    /** What a hook call would read from the same document ({@link DomainFacts}). */
    public DomainFacts facts() {
        return new DomainFacts(sourceName, name, vcpus);
    }

    /** Polling settings of one iothread, if its {@code <iothread>} has a {@code <poll>}. */
    public Optional<IoThreadPoll> pollOf(int iothreadId) {
        for (IoThreadPoll p : iothreadPolling) {
            if (p.iothreadId() == iothreadId) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** PCI addresses of passed-through PCI devices. */
    public List<String> pciHostdevs() {
        List<String> out = new ArrayList<>();
        for (HostDev h : hostdevs) {
            if (h.pciAddress().isPresent()) {
                out.add(h.pciAddress().get());
            }
        }
        return out;
    }
}
