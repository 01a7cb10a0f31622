package org.vfioorchestrator.domain;

import java.util.OptionalLong;

/**
 * {@code <iothreadids><iothread id><poll max grow shrink weight/>}: the adaptive polling
 * of one iothread. {@code max} is the longest busy-poll in ns (QEMU's default 32768,
 * 0 turns polling off); grow and shrink are the step factors (0 = QEMU's default).
 */
public record IoThreadPoll(int iothreadId, OptionalLong maxNs, OptionalLong grow, OptionalLong shrink,
        OptionalLong weight) {
    /** QEMU's AIO_POLL_MAX_NS default. */
    public static final long QEMU_DEFAULT_MAX_NS = 32768;

    public long effectiveMaxNs() {
        return maxNs.orElse(QEMU_DEFAULT_MAX_NS);
    }
}
