package org.vfioorchestrator.plan;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.Tunable;
import org.vfioorchestrator.tunable.Tunables;

/** Reads a {@link HostSnapshot}: the only place the planner's inputs come from, each tunable reading its part. */
public final class HostSnapshotReader {
    private final HostFs host;

    public HostSnapshotReader(HostFs host) {
        this.host = host;
    }

    /** Reads what a plan for these profiles needs (see {@link ReadScope}). */
    public HostSnapshot read(Topology topology, List<Profile> profiles) {
        return read(ReadScope.of(topology, profiles), Tunables.ALL);
    }

    /** Reads what these units' plan for these profiles needs, and nothing of the others. */
    public HostSnapshot read(Topology topology, List<Profile> profiles, List<Tunable<?>> units) {
        return read(ReadScope.of(topology, profiles), units);
    }

    /** Reads everything a plan could need for these VMs ({@link ReadScope#everything}). */
    public HostSnapshot readEverything(Topology topology, Collection<String> vms) {
        return read(ReadScope.everything(topology, vms), Tunables.ALL);
    }

    private HostSnapshot read(ReadScope scope, List<Tunable<?>> units) {
        Map<Tunable<?>, Object> facts = new LinkedHashMap<>();
        for (Tunable<?> unit : units) {
            facts.put(unit, unit.read(host, scope));
        }
        return new HostSnapshot(scope.topology(), facts);
    }
}
