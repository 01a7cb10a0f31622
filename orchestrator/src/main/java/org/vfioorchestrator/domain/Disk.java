package org.vfioorchestrator.domain;

import java.util.Optional;

/**
 * One {@code <disk type device>}: type is file, block, network or volume; device is
 * disk, cdrom, floppy or lun. The source is {@code file=} or {@code dev=} (or a
 * network name); {@code bus} is the target bus (virtio, sata, ide, scsi, usb, ...);
 * {@code controller} the index its {@code <address type='drive' controller>} names (0 without one).
 */
public record Disk(String type, String device, String targetDev, String bus, int controller, Optional<String> sourcePath,
        DiskDriver driver) {

    public boolean isCdrom() {
        return device.equals("cdrom") || device.equals("floppy");
    }

    /** A short tag for messages: {@code disk sda (sata, file /var/lib/libvirt/images/a.img)}. */
    public String label() {
        return "disk " + targetDev + " (" + bus + ", " + type + (sourcePath.isPresent() ? " " + sourcePath.get() : "") + ")";
    }
}
