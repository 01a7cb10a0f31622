package org.vfioorchestrator.plan;

import java.util.LinkedHashMap;
import java.util.Map;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.tunable.Tunable;

/**
 * Everything the planner looks at, read once from the host: what each tunable read. The planner is a
 * pure function of this and the profiles.
 *
 * @param facts each unit's reading, by unit
 */
public record HostSnapshot(Topology topology, Map<Tunable<?>, Object> facts) {
    public HostSnapshot {
        facts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(facts));
    }

    /** What {@code unit} read. */
    @SuppressWarnings("unchecked") // HostSnapshotReader put what unit.read returned under unit
    public <F> F facts(Tunable<F> unit) {
        if (!facts.containsKey(unit)) {
            throw new IllegalArgumentException(unit.kind().title() + " were not read into this snapshot");
        }
        return (F) facts.get(unit);
    }
}
