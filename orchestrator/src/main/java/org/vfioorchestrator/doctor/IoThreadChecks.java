package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Controller;
import org.vfioorchestrator.domain.Disk;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.IoThreadPoll;

/** Where the VM's disk I/O runs: iothreads, their pinning, and their adaptive polling. */
final class IoThreadChecks {
    /** A host that keeps this many CPUs or fewer has none to spare for busy-polling. */
    static final int CONSTRAINED_HOST_CPUS = 2;
    /** Suggested cap when the iothread shares its CPU with the host: a quarter of QEMU's default. */
    static final long SHARED_POLL_MAX_NS = 8192;

    private IoThreadChecks() {
    }

    static void run(DoctorInput in, List<Finding> out) {
        Domain d = in.domain();
        List<Disk> virtio = d.disks().stream().filter(x -> !x.isCdrom() && x.bus().equals("virtio")).toList();
        // a virtio-scsi controller's queues are served like a virtio disk's: by an iothread, or by the main loop
        List<Controller> scsi = d.controllers().stream().filter(Controller::virtioScsi).filter(c -> d.disks().stream()
                .anyMatch(x -> !x.isCdrom() && x.bus().equals("scsi") && x.controller() == c.index())).toList();
        // where helpers belong: the emulator's CPUs when they are clear of the vCPUs, else all the host keeps
        String where = in.emulatorCpus().filter(e -> !e.isEmpty() && !e.intersects(in.vmCpus())).map(CpuSet::toString)
                .orElseGet(in::hostCpusText);
        if (d.iothreads() == 0) {
            if (!virtio.isEmpty() || !scsi.isEmpty()) {
                List<String> served = new ArrayList<>();
                List<String> assign = new ArrayList<>();
                if (!virtio.isEmpty()) {
                    served.add(virtio.size() + " virtio disk(s)");
                    assign.add("iothread='1' on each virtio disk's <driver>");
                }
                if (!scsi.isEmpty()) {
                    served.add(scsi.size() + " virtio-scsi controller(s) with disks");
                    assign.add("<driver iothread='1'/> in each virtio-scsi <controller>");
                }
                out.add(new Finding(Severity.WARNING, "iothreads.none", "<iothreads> absent; " + String.join(", ", served),
                        "Without an iothread the disks are served by QEMU's main loop, which shares a lock and a thread"
                                + " with the emulator and every other device, so a burst of I/O delays the rest.",
                        "<iothreads>1</iothreads> in <domain>; " + String.join("; ", assign) + "; and"
                                + " <iothreadpin iothread='1' cpuset='" + where + "'/> in <cputune>"));
            }
            return;
        }
        for (Controller c : scsi) {
            if (c.iothread().isEmpty()) {
                out.add(new Finding(Severity.WARNING, "iothreads.controller-unassigned", c.toXml()
                        + c.queues().stream().mapToObj(q -> " with " + q + " queues").findFirst().orElse("")
                        + ", no <driver iothread>",
                        "The disks on this controller still run in QEMU's main loop although the VM has iothreads.",
                        "<controller type='scsi' index='" + c.index() + "' model='virtio-scsi'><driver"
                                + c.queues().stream().mapToObj(q -> " queues='" + q + "'").findFirst().orElse("")
                                + " iothread='" + d.iothreadIds().get(0) + "'/></controller>"));
            }
        }
        for (Disk x : virtio) {
            if (x.driver().iothreads().isEmpty()) {
                out.add(new Finding(Severity.WARNING, "iothreads.disk-unassigned", x.label() + ": " + Xml.driver(x.driver()),
                        "This disk still runs in QEMU's main loop although the VM has iothreads.",
                        Xml.driver(withIothread(x, d.iothreadIds().get(0)))));
            }
        }
        CpuSet vm = in.vmCpus();
        for (int id : d.iothreadIds()) {
            Optional<CpuSet> cpus = in.iothreadCpus(id);
            if (cpus.isEmpty()) {
                out.add(new Finding(Severity.WARNING, "iothreads.unpinned", "iothread " + id
                        + ": no <iothreadpin iothread='" + id + "'> and no iothread_cpus in the profile",
                        "An unpinned iothread may run on the VM's CPUs and preempt a vCPU in the middle of a frame.",
                        "<iothreadpin iothread='" + id + "' cpuset='" + where + "'/> in <cputune>, or iothread_cpus: "
                                + where + " in the profile"));
            } else if (cpus.get().intersects(vm)) {
                out.add(new Finding(Severity.WARNING, "iothreads.on-vm-cpus", "iothread " + id + " on CPUs "
                        + cpus.get() + ", vCPUs on " + vm + " (shared: " + cpus.get().intersection(vm) + ")",
                        "The iothread competes with vCPUs for the same CPUs, so disk bursts steal guest CPU time.",
                        "<iothreadpin iothread='" + id + "' cpuset='" + where + "'/>"));
            }
            polling(in, id, cpus, out);
        }
    }

    /**
     * QEMU busy-polls for up to poll-max-ns (32768 by default) after each event: fewer
     * wake-ups and more IOPS for a fast disk, bought with CPU time on the iothread's CPU.
     */
    private static void polling(DoctorInput in, int id, Optional<CpuSet> cpus, List<Finding> out) {
        Optional<IoThreadPoll> poll = in.domain().pollOf(id);
        long max = poll.map(IoThreadPoll::effectiveMaxNs).orElse(IoThreadPoll.QEMU_DEFAULT_MAX_NS);
        if (max == 0) {
            return;
        }
        Optional<CpuSet> host = in.hostCpus().filter(h -> !h.isEmpty());
        boolean constrained = host.isPresent() && host.get().size() <= CONSTRAINED_HOST_CPUS;
        boolean sharesHost = host.isPresent() && cpus.map(c -> c.intersects(host.get())).orElse(true);
        boolean defaulted = poll.isEmpty() || poll.get().maxNs().isEmpty();
        String evidence = "iothread " + id + " polls up to " + max + " ns" + (defaulted ? " (QEMU's default)" : "")
                + " on CPUs " + cpus.map(CpuSet::toString).orElse("(unpinned)")
                + host.map(h -> ", host keeps " + h).orElse("");
        if (constrained && sharesHost && max > SHARED_POLL_MAX_NS) {
            out.add(new Finding(Severity.WARNING, "iothreads.polling-constrained", evidence,
                    "The host keeps only " + host.get().size() + " CPU(s), and every busy-poll of the iothread takes them"
                            + " from the emulator, IRQs and host work; turning polling off costs some IOPS on very fast"
                            + " disks (a few per cent at queue depth 1) and gives that CPU time back.",
                    "<iothreadids><iothread id='" + id + "'><poll max='0'/></iothread></iothreadids> to stop"
                            + " polling, or max='" + SHARED_POLL_MAX_NS + "' grow='2' shrink='2' to keep a little"
                            + " (libvirt 9.4+; live: virsh iothreadset VM " + id + " --poll-max-ns 0)"));
        } else if (defaulted && sharesHost) {
            out.add(new Finding(Severity.INFO, "iothreads.polling-default-shared", evidence,
                    "QEMU's default polling favours IOPS and burns up to 32 µs of the shared CPU after every request;"
                            + " a lower cap trades a little IOPS for CPU time the host and emulator can use.",
                    "<iothreadids><iothread id='" + id + "'><poll max='" + SHARED_POLL_MAX_NS
                            + "' grow='2' shrink='2'/></iothread></iothreadids> (libvirt 9.4+); measure with fio"
                            + " before and after; keep the default (or raise it) on a dedicated iothread CPU with NVMe"));
        }
    }

    private static org.vfioorchestrator.domain.DiskDriver withIothread(Disk x, int id) {
        var d = x.driver();
        return new org.vfioorchestrator.domain.DiskDriver(d.name().or(() -> Optional.of("qemu")), d.type(), d.cache(),
                d.io(), List.of(id));
    }
}
