package org.vfioorchestrator.doctor;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.vfioorchestrator.domain.Disk;
import org.vfioorchestrator.domain.DiskDriver;
import org.vfioorchestrator.host.Mount;

/** The disk I/O side of stutter: emulated buses, host page cache, aio=native pitfalls. */
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
            emulatedBus(d, out);
            DiskDriver drv = d.driver();
            boolean direct = DIRECT_CACHES.contains(drv.effectiveCache());
            boolean nativeIo = drv.effectiveIo().equals("native");
            if (nativeIo && !direct) {
                out.add(new Finding(Severity.ERROR, "disk.native-without-direct", d.label() + ": " + Xml.driver(drv),
                        "QEMU refuses aio=native unless the host page cache is bypassed (cache.direct=on), so this VM will not start.",
                        Xml.driver(withCacheIo(drv, "none", "native"))));
            }
            if (d.type().equals("block") && (!direct || !(nativeIo || drv.effectiveIo().equals("io_uring")))) {
                out.add(new Finding(Severity.WARNING, "disk.block-not-direct", d.label() + ": " + Xml.driver(drv),
                        "A block device behind the host page cache and QEMU's thread pool copies every I/O twice and wakes"
                                + " extra host threads, which shows up as host load and guest stutter.",
                        Xml.driver(withCacheIo(drv, "none", "native"))));
            }
            if (nativeIo && d.type().equals("file") && d.sourcePath().isPresent()) {
                sparse(in, d, out);
            }
        }
    }

    private static void emulatedBus(Disk d, List<Finding> out) {
        if (!d.bus().equals("ide") && !d.bus().equals("sata")) {
            return;
        }
        out.add(new Finding(Severity.WARNING, "disk.emulated-bus", d.label() + ": <target dev='" + d.targetDev()
                + "' bus='" + d.bus() + "'/>",
                "An emulated " + d.bus().toUpperCase() + " controller traps to QEMU on every register access and runs"
                        + " its I/O on the vCPU threads, so disk work stalls the guest's CPUs.",
                "<target dev='vd" + d.targetDev().substring(Math.min(2, d.targetDev().length())) + "' bus='virtio'/>"
                        + " (and drop its <address type='drive'>); install the virtio-blk driver in the guest first"
                        + " (Windows: virtio-win, add a small virtio disk, load the driver, then switch the boot disk)"));
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
