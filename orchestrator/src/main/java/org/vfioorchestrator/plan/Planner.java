package org.vfioorchestrator.plan;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.Tunable;
import org.vfioorchestrator.tunable.Tunables;

/**
 * Computes the changes that isolate a set of VMs on a host: asks each registered {@link Tunable}, in
 * {@link Tunables}' order, for its part. Pure: the same snapshot and profiles always give the same plan,
 * and nothing is touched.
 *
 * <p>With several VMs the host keeps the CPUs every profile leaves it (the
 * intersection of their {@code host_cpus}), and the VMs' vCPU CPUs must not overlap.
 */
public final class Planner {
    private Planner() {
    }

    public static Plan plan(HostSnapshot host, List<Profile> profiles) {
        return plan(host, profiles, Tunables.ALL);
    }

    /** The plan of these units only (their facts must be in {@code host}), in the order given. */
    public static Plan plan(HostSnapshot host, List<Profile> profiles, List<Tunable<?>> units) {
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("a plan needs at least one profile");
        }
        checkNoOverlap(profiles);
        CpuSet hostCpus = Profile.hostCpusOf(host.topology().online(), profiles);
        CpuSet vmCpus = Profile.vmCpusOf(profiles);
        if (hostCpus.isEmpty()) {
            throw OrchestratorException.data("the profiles of " + names(profiles)
                    + " leave the host no CPU (their host_cpus do not overlap); give them a common host CPU");
        }
        Planning planning = new Planning(profiles, hostCpus, vmCpus);
        List<ChangeKind> kinds = new ArrayList<>();
        for (Tunable<?> unit : units) {
            planWith(unit, host, planning);
            if (!kinds.contains(unit.kind())) {
                kinds.add(unit.kind());
            }
        }
        return planning.toPlan(Profile.vmsOf(profiles), kinds);
    }

    private static <F> void planWith(Tunable<F> unit, HostSnapshot host, Planning planning) {
        unit.plan(host.facts(unit), planning);
    }

    private static void checkNoOverlap(List<Profile> profiles) {
        for (int i = 0; i < profiles.size(); i++) {
            for (int j = i + 1; j < profiles.size(); j++) {
                CpuSet both = profiles.get(i).vmCpus().intersection(profiles.get(j).vmCpus());
                if (!both.isEmpty()) {
                    throw OrchestratorException.state("VM " + profiles.get(j).vm() + " wants CPU " + both
                            + ", which VM " + profiles.get(i).vm() + " already has (" + profiles.get(i).source()
                            + "); give the two VMs different vCPU CPUs");
                }
            }
        }
    }

    private static String names(List<Profile> profiles) {
        return String.join(", ", Profile.vmsOf(profiles));
    }
}
