package org.vfioorchestrator.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What this tool needs from a libvirt domain XML. {@code iothreads()} is the
 * {@code <iothreads>} count (0 when absent); {@code iothreadIds()} the ids in use
 * (from {@code <iothreadids>}, else 1..iothreads); {@code iothreadPolling()} the
 * iothreads that carry a {@code <poll>} element.
 */
public record Domain(String sourceName, String name, String type, int vcpus, int iothreads,
        List<Integer> iothreadIds, Optional<CpuTopology> cpuTopology, Cputune cputune, List<Disk> disks,
        List<HostDev> hostdevs, List<IoThreadPoll> iothreadPolling) {

    public Domain {
        iothreadIds = List.copyOf(iothreadIds);
        disks = List.copyOf(disks);
        hostdevs = List.copyOf(hostdevs);
        iothreadPolling = List.copyOf(iothreadPolling);
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
