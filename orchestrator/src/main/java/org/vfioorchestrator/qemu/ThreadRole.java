package org.vfioorchestrator.qemu;

/** What a QEMU thread does, read from its name. */
public enum ThreadRole {
    /** {@code CPU n/KVM} or {@code CPU n/TCG}: runs guest vCPU n. */
    VCPU,
    /** {@code IO iothreadN}: a disk iothread. */
    IOTHREAD,
    /** Everything else: the main loop, workers, and under TCG the guest's timers. */
    EMULATOR
}
