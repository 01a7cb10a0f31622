package org.vfioorchestrator.domain;

import java.util.List;
import java.util.Optional;

/**
 * A disk's {@code <driver name type cache io iothread>}. {@code iothreads} lists the ids
 * of the newer multi-queue mapping ({@code <driver><iothreads><iothread id/>}).
 * Absent attributes are empty: QEMU's defaults then apply (cache=writeback, io=threads).
 */
public record DiskDriver(Optional<String> name, Optional<String> type, Optional<String> cache, Optional<String> io,
        List<Integer> iothreads) {

    public DiskDriver {
        iothreads = List.copyOf(iothreads);
    }

    public static DiskDriver none() {
        return new DiskDriver(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }

    /** The cache mode in effect: libvirt leaves it to QEMU, which uses writeback. */
    public String effectiveCache() {
        return cache.isEmpty() || cache.get().equals("default") ? "writeback" : cache.get();
    }

    /** The AIO mode in effect: QEMU's default is threads. */
    public String effectiveIo() {
        return io.isEmpty() || io.get().equals("default") ? "threads" : io.get();
    }
}
