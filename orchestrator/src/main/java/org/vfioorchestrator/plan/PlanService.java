package org.vfioorchestrator.plan;

import java.nio.file.Path;
import java.util.List;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileFile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.tunable.Tunable;

/** Loads profiles against a host and plans for them: what {@code plan}, {@code apply} and the hook share. */
public final class PlanService {
    private final HostFs host;
    private final HostFacts facts;

    public PlanService(HostFs host) {
        this.host = host;
        this.facts = HostFacts.read(host);
    }

    public HostFs host() {
        return host;
    }

    public HostFacts facts() {
        return facts;
    }

    public Profile load(Path profile) {
        return new ProfileLoader(facts).load(profile);
    }

    public Profile load(ProfileFile profile) {
        return new ProfileLoader(facts).load(profile);
    }

    /** Reads the host now and plans for these VMs together. */
    public Plan plan(List<Profile> profiles) {
        return Planner.plan(new HostSnapshotReader(host).read(facts.topology(), profiles), profiles);
    }

    /** Reads only what these units plan from and plans them alone. */
    public Plan plan(List<Profile> profiles, List<Tunable<?>> units) {
        return Planner.plan(new HostSnapshotReader(host).read(facts.topology(), profiles, units), profiles, units);
    }
}
