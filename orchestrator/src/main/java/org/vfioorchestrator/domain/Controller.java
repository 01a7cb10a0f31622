package org.vfioorchestrator.domain;

import java.util.OptionalInt;

/**
 * A {@code <controller type index model>} with its {@code <driver queues iothread>}: the SCSI
 * controller a {@code bus='scsi'} disk hangs off ({@code model} empty when the XML leaves it to
 * libvirt, which picks lsilogic on x86), or a virtio-scsi one whose queues an iothread can serve.
 */
public record Controller(String type, int index, String model, OptionalInt queues, OptionalInt iothread) {
    public boolean virtioScsi() {
        return type.equals("scsi") && model.equals("virtio-scsi");
    }

    /** How it reads in the XML, for findings. */
    public String toXml() {
        return "<controller type='" + type + "' index='" + index + "'" + (model.isEmpty() ? "" : " model='" + model + "'")
                + "/>";
    }
}
