package org.vfioorchestrator.host;

/**
 * systemd, where it manages the host's cgroups (cgroup v2 with systemd as PID 1). It owns the cgroup
 * tree: a controller or cpuset written behind its back is gone the next time it realizes a unit
 * (lab/LabTest shows it), so the host's CPUs are confined through its runtime unit properties, which
 * it keeps as drop-ins under {@link #CONTROL} until the next boot.
 */
public interface Systemd {
    /** Where systemd keeps the properties set with {@code systemctl set-property --runtime}. */
    String CONTROL = "/run/systemd/system.control";

    /**
     * A property of each unit as systemd shows it, in one {@code systemctl show -p NAME UNIT...} (each
     * call starts a process, which a hook call pays for per unit otherwise).
     */
    java.util.Map<String, String> properties(java.util.List<String> units, String name);

    /** One unit's property ({@link #properties}). */
    default String property(String unit, String name) {
        return properties(java.util.List.of(unit), name).get(unit);
    }

    /** Sets a unit's property until the next boot ({@code systemctl set-property --runtime UNIT NAME=VALUE}). */
    void setRuntimeProperty(String unit, String name, String value);

    /** Reads the unit files and drop-ins again ({@code systemctl daemon-reload}). */
    void reload();

    /** The drop-in that holds a runtime property, as systemd names it. */
    static String dropIn(String unit, String name) {
        return CONTROL + "/" + unit + ".d/50-" + name + ".conf";
    }
}
