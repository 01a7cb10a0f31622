package org.vfioorchestrator.measure;

/** Which latency probe {@code measure --probe} runs. */
public enum ProbeTool {
    /** cyclictest when installed, else the built-in busy loop. */
    AUTO,
    /** rt-tests' cyclictest: timer wake-up latency of a SCHED_FIFO thread. */
    CYCLICTEST,
    /** rt-tests' oslat: gaps seen by a busy loop. */
    OSLAT,
    /** The built-in busy loop (oslat-style) written in Java. */
    JAVA;

    /** The name users type and see (picocli lists the choices with it). */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
