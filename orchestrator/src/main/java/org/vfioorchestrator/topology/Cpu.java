package org.vfioorchestrator.topology;

/**
 * One online logical CPU and where it sits.
 *
 * @param id        the kernel's CPU number
 * @param packageId {@code physical_package_id} (the socket)
 * @param dieId     {@code die_id}, or -1 when the kernel does not show it (before 5.2)
 * @param coreId    {@code core_id}: only unique within a package, and not necessarily dense;
 *                  use {@link Topology#siblingsOf} to find a CPU's core
 * @param l3Id      index of this CPU's group in {@link Topology#l3Groups()}, or -1 if unknown
 * @param numaNode  NUMA node id, or -1 if unknown (no {@code /sys/devices/system/node})
 * @param type      the core type on hybrid parts, else {@link CoreType#UNKNOWN}
 */
public record Cpu(int id, int packageId, int dieId, int coreId, int l3Id, int numaNode, CoreType type) {
}
