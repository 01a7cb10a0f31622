package org.vfioorchestrator.domain;

/** The guest CPU topology from {@code <cpu><topology sockets dies cores threads/>}; dies default to 1. */
public record CpuTopology(int sockets, int dies, int cores, int threads) {
    /** vCPUs this topology describes. */
    public int total() {
        return sockets * dies * cores * threads;
    }

    public String toXml() {
        return "<topology sockets='" + sockets + "' dies='" + dies + "' cores='" + cores + "' threads='" + threads + "'/>";
    }
}
