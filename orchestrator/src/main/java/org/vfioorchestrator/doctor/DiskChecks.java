package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.vfioorchestrator.domain.Controller;
import org.vfioorchestrator.domain.Disk;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DiskDriver;
import org.vfioorchestrator.host.Mount;

/**
 * The disk I/O side of stutter: emulated buses, the host page cache (QEMU's default, checked as such),
 * QEMU's thread pool, aio=native pitfalls.
 */
final class DiskChecks {
    private static final Set<String> DIRECT_CACHES = Set.of("none", "directsync");
    private static final Set<String> SPARSE_RISK_FS = Set.of("ext4", "xfs");

    private DiskChecks() {
    }

    static void run(DoctorInput in, List<Finding> out) {
        for (Disk d : in.domain().disks()) {
            if (d.isCdrom()) {
                continue;
            }
            emulatedBus(in.domain(), d, out);
            DiskDriver drv = d.driver();
            boolean direct = DIRECT_CACHES.contains(drv.effectiveCache());
            boolean nativeIo = drv.effectiveIo().equals("native");
            boolean asyncIo = nativeIo || drv.effectiveIo().equals("io_uring");
            if (nativeIo && !direct) {
                out.add(new Finding(Severity.ERROR, "disk.native-without-direct", d.label() + ": " + Xml.driver(drv),
                        "QEMU refuses aio=native unless the host page cache is bypassed (cache.direct=on), so this VM will not start.",
                        Xml.driver(withCacheIo(drv, "none", "native"))));
            } else if (!direct && (d.type().equals("file") || d.type().equals("block") || d.type().equals("volume"))) {
                pageCache(d, out);
            } else if (direct && !asyncIo && d.type().equals("block")) {
                out.add(new Finding(Severity.WARNING, "disk.block-io-threads", d.label() + ": " + Xml.driver(drv)
                                + defaults(drv),
                        "The page cache is bypassed, but every request still goes through QEMU's thread pool"
                                + " (io='threads'), which wakes extra host threads and adds a hand-off per I/O.",
                        Xml.driver(withCacheIo(drv, drv.effectiveCache(), "native"))
                                + " (or io='io_uring' with QEMU 5.0 and libvirt 6.3 or later)"));
            }
            if (nativeIo && d.type().equals("file") && d.sourcePath().isPresent()) {
                sparse(in, d, out);
            }
        }
    }

    /**
     * Writes through the host page cache: QEMU's default (cache=writeback) when the driver says
     * nothing, and what the users' reports in the seeds changed first.
     */
    private static void pageCache(Disk d, List<Finding> out) {
        DiskDriver drv = d.driver();
        boolean block = d.type().equals("block");
        String why = (block ? "A block device behind the host page cache" : "A disk image behind the host page cache")
                + " (cache=" + drv.effectiveCache() + ") has every guest write copied into host memory and flushed"
                + " later by the host's writeback threads, so guest I/O turns into host memory pressure and host"
                + " work at unpredictable times, which shows up as stutter"
                + (drv.effectiveIo().equals("threads") ? "; QEMU's thread pool (io='threads') adds a host thread"
                        + " wake-up per request" : "") + ".";
        String fix = Xml.driver(withCacheIo(drv, "none", "native")) + " (or io='io_uring' with QEMU 5.0 and libvirt"
                + " 6.3 or later" + (block ? ")" : "; on a sparse image on ext4 or xfs preallocate it first or use"
                + " io_uring: see disk.native-on-sparse)");
        if (!d.bus().equals("virtio")) {
            fix += "; once the disk is on virtio, give it an iothread: <iothreads>1</iothreads> in <domain> and"
                    + " iothread='1' on this <driver>";
        }
        out.add(new Finding(Severity.WARNING, block ? "disk.block-not-direct" : "disk.page-cache",
                d.label() + ": " + Xml.driver(drv) + defaults(drv), why, fix));
    }

    /** What QEMU uses when the driver leaves cache or io out: the defaults are checked too, so say them. */
    private static String defaults(DiskDriver drv) {
        List<String> parts = new ArrayList<>();
        if (drv.cache().isEmpty() || drv.cache().get().equals("default")) {
            parts.add("cache=writeback");
        }
        if (drv.io().isEmpty() || drv.io().get().equals("default")) {
            parts.add("io=threads");
        }
        return parts.isEmpty() ? "" : " (QEMU's default " + String.join(", ", parts) + ")";
    }

    /**
     * IDE, SATA and USB are emulated in full; SCSI is too unless its controller is virtio-scsi (libvirt's
     * default SCSI model on x86 is the emulated lsilogic).
     */
    private static void emulatedBus(Domain domain, Disk d, List<Finding> out) {
        String bus = d.bus();
        String seen = d.label() + ": <target dev='" + d.targetDev() + "' bus='" + bus + "'/>";
        String toVirtio = "<target dev='vd" + d.targetDev().substring(Math.min(2, d.targetDev().length())) + "' bus='virtio'/>"
                + " (and drop its <address type='drive'>); install the virtio-blk driver in the guest first"
                + " (Windows: virtio-win, add a small virtio disk, load the driver, then switch the boot disk)";
        String why = " traps to QEMU on every register access and runs its I/O on the vCPU threads, so disk work stalls"
                + " the guest's CPUs.";
        if (bus.equals("ide") || bus.equals("sata") || bus.equals("usb")) {
            out.add(new Finding(Severity.WARNING, "disk.emulated-bus", seen,
                    "An emulated " + bus.toUpperCase(Locale.ROOT) + " controller" + why, toVirtio));
        } else if (bus.equals("scsi")) {
            Optional<Controller> c = domain.controllerOf(d);
            if (c.isPresent() && c.get().virtioScsi()) {
                return;
            }
            Optional<String> model = c.map(Controller::model).filter(m -> !m.isEmpty());
            out.add(new Finding(Severity.WARNING, "disk.emulated-bus", seen + " on "
                    + c.map(Controller::toXml).orElse("SCSI controller " + d.controller() + ", not in the XML")
                    + (model.isPresent() ? "" : " (libvirt's default model on x86: lsilogic)"),
                    "An emulated " + model.orElse("lsilogic") + " SCSI controller" + why,
                    "<controller type='scsi' index='" + d.controller() + "' model='virtio-scsi'><driver iothread='1'/>"
                            + "</controller> (the guest needs the virtio-scsi driver: Windows, vioscsi from virtio-win),"
                            + " or " + toVirtio));
        }
    }

    private static void sparse(DoctorInput in, Disk d, List<Finding> out) {
        String path = d.sourcePath().get();
        Optional<Mount> mount;
        OptionalLong allocated;
        Optional<Long> size;
        try {
            mount = Mount.containing(in.host(), path);
            allocated = in.host().allocatedBytes(path);
            size = in.host().stat(path).map(f -> f.size());
        } catch (RuntimeException e) {
            return;
        }
        if (mount.isEmpty() || !SPARSE_RISK_FS.contains(mount.get().fsType())) {
            return;
        }
        String fs = mount.get().fsType();
        if (allocated.isEmpty() || size.isEmpty()) {
            out.add(new Finding(Severity.INFO, "disk.native-sparse-unknown", d.label() + " on " + fs
                    + ": cannot read its allocation under " + in.host().root(),
                    "aio=native on a sparse image on ext4 or xfs can corrupt guest data, and this image could not be checked.",
                    "check with: du --block-size=1 " + path + " (allocated) vs ls -l " + path + " (size)"));
            return;
        }
        long alloc = allocated.getAsLong();
        long bytes = size.get();
        if (alloc >= bytes) {
            return;
        }
        String format = d.driver().type().orElse("raw");
        String prealloc = format.equals("qcow2")
                ? "qemu-img convert -O qcow2 -o preallocation=falloc " + path + " " + path + ".full && mv " + path
                        + ".full " + path + " (VM off)"
                : "fallocate -l " + bytes + " " + path + " fills the holes in place (VM off), or: qemu-img convert -O raw -S 0 "
                        + path + " " + path + ".full";
        out.add(new Finding(Severity.ERROR, "disk.native-on-sparse", d.label() + " on " + fs + ": " + alloc
                + " of " + bytes + " bytes allocated, with " + Xml.driver(d.driver()),
                "Direct AIO that is not block-aligned and lands in a hole of a sparse file on ext4 or xfs can corrupt guest data.",
                "preallocate: " + prealloc + "; or switch to " + Xml.driver(withCacheIo(d.driver(),
                        d.driver().effectiveCache(), "threads"))));
    }

    static DiskDriver withCacheIo(DiskDriver d, String cache, String io) {
        return new DiskDriver(d.name().or(() -> Optional.of("qemu")), d.type(), Optional.of(cache), Optional.of(io),
                d.iothreads());
    }
}
