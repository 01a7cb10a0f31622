package org.vfioorchestrator.tunable;

import java.util.Collection;
import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileSection;
import org.vfioorchestrator.topology.Topology;

/**
 * What a plan for these profiles reads of the host, for each {@link Tunable#read}: the per-CPU and per-IRQ
 * parts only where the profiles need them (on a 1024-CPU host the others are thousands of reads on every hook
 * call). {@link #everything} reads all of it, with the sections' defaults: that is what {@code capture} records.
 *
 * @param profiles   the profiles planned for (empty for everything)
 * @param vms        the VMs whose QEMU threads are read
 * @param everything read every CPU's and IRQ's part, not only the profiles'
 */
public record ReadScope(Topology topology, List<Profile> profiles, Collection<String> vms, boolean everything) {
    public ReadScope {
        profiles = List.copyOf(profiles);
        vms = List.copyOf(vms);
    }

    /** What a plan for these profiles needs. */
    public static ReadScope of(Topology topology, List<Profile> profiles) {
        return new ReadScope(topology, profiles, Profile.vmsOf(profiles), false);
    }

    /** Everything, the parts of every online CPU included, for these VMs. */
    public static ReadScope everything(Topology topology, Collection<String> vms) {
        return new ReadScope(topology, List.of(), vms, true);
    }

    /** The CPUs whose per-CPU settings are read: the VMs' (every online CPU for everything). */
    public CpuSet vmCpus() {
        return everything ? topology.online() : topology.online().intersection(Profile.vmCpusOf(profiles));
    }

    /** The CPUs the plan leaves the host (none for everything: then nothing counts as already settled). */
    public CpuSet hostCpus() {
        return everything ? CpuSet.empty() : Profile.hostCpusOf(topology.online(), profiles);
    }

    /** The first profile's settings of a section (the host-wide ones are the first VM's), or its defaults. */
    public <S> S settings(ProfileSection<S> section) {
        return profiles.isEmpty() ? section.defaults() : profiles.get(0).settings(section);
    }
}
