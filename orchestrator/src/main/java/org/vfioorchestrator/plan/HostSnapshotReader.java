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
        return read(ReadScope.of(topology, profiles));
    }

    /** Reads everything a plan could need for these VMs ({@link ReadScope#everything}). */
    public HostSnapshot readEverything(Topology topology, Collection<String> vms) {
        return read(ReadScope.everything(topology, vms));
    }

    private HostSnapshot read(ReadScope scope) {
        Map<Tunable<?>, Object> facts = new LinkedHashMap<>();
        for (Tunable<?> unit : Tunables.ALL) {
            facts.put(unit, unit.read(host, scope));
        }
        return new HostSnapshot(scope.topology(), facts);
    }
}
