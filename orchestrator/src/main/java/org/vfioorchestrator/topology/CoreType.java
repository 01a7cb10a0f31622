package org.vfioorchestrator.topology;

import java.util.Locale;

/**
 * The kind of core a CPU belongs to on a hybrid part (Intel P-/E-cores, Arm
 * big.LITTLE). {@code UNKNOWN} when the host is not hybrid or does not say.
 */
public enum CoreType {
    PERFORMANCE,
    EFFICIENCY,
    UNKNOWN;

    /** How people read it: {@code performance}, {@code efficiency}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
