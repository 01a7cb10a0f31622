package org.vfioorchestrator.apply;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.UtcTime;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.tunable.pins.ThreadPins;

/**
 * Applies a VM's profile. The target is computed from the host plus every VM
 * already applied (their profiles come from the journal), and only the
 * difference to the host as it is now is carried out; applying again changes
 * only what drifted.
 */
public final class Applier {
    static final Duration LOCK_WAIT = Duration.ofSeconds(60);

    private final PlanService plans;
    private final JournalStore store;
    private final Consumer<String> log;

    public Applier(PlanService plans, Consumer<String> log) {
        this.plans = plans;
        this.store = new JournalStore(plans.host());
        this.log = log;
    }

    /**
     * @param pinThreads false for libvirt's {@code prepare} phase (QEMU not started yet): host side only
     */
    public ApplyReport apply(Profile profile, boolean pinThreads) {
        try (AutoCloseable lock = store.lock(LOCK_WAIT)) {
            return applyLocked(profile, pinThreads);
        } catch (OrchestratorException | org.vfioorchestrator.host.HostIoException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Applies a VM again with the profile text the journal kept from its start; false when the
     * journal does not have the VM. Used after a libvirtd restart: a profile edited while the VM
     * ran takes effect at its next start, not in the middle of its run.
     */
    public boolean reassert(String vm) {
        Journal journal = store.load().orElse(null);
        if (journal == null || !journal.vms().containsKey(vm) || !journal.bootId().equals(store.currentBootId())) {
            return false;
        }
        Journal.AppliedVm a = journal.vms().get(vm);
        Profile profile = new ProfileLoader(plans.facts()).parse(a.profileText().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                a.profileSource() + " (as applied)", vm);
        apply(profile, true);
        return true;
    }

    private ApplyReport applyLocked(Profile profile, boolean pinThreads) {
        String bootId = store.currentBootId();
        Journal journal = store.load().orElse(null);
        String archived = null;
        if (journal != null && !journal.bootId().equals(bootId)) {
            archived = store.archiveStale(journal);
            log.accept("journal from an earlier boot moved aside to " + archived);
            journal = null;
        }
        if (journal == null) {
            journal = Journal.empty(bootId);
        }
        if (!journal.refused().isEmpty()) {
            // an entry we cannot trust may hold the only original of a file this apply would change
            throw OrchestratorException.state(store.journalPath() + ": refusing to change the host: the journal holds "
                    + journal.refused().size() + (journal.refused().size() == 1 ? " entry" : " entries") + " this tool never"
                    + " writes or cannot read (" + String.join("; ", journal.refused()) + "). Nothing was changed. Run"
                    + " 'vfio-orchestrator revert --all': it restores everything else, reports these and drops them");
        }
        List<Profile> profiles = otherProfiles(plans, journal, profile.vm());
        profiles.add(profile);
        Plan plan = plans.plan(profiles);
        List<Change> changes = new ArrayList<>();
        for (Change c : plan.changes()) {
            if (pinThreads || !(c instanceof Change.PinThread)) {
                changes.add(c);
            }
        }

        boolean wasApplied = journal.vms().containsKey(profile.vm());
        Journal.AppliedVm record = wasApplied ? journal.vms().get(profile.vm())
                : new Journal.AppliedVm(profile.source(), profile.text(), UtcTime.now());
        if (wasApplied && !record.profileText().equals(profile.text())) {
            log.accept(profile.vm() + ": profile changed since it was applied; using the new one");
            record = new Journal.AppliedVm(profile.source(), profile.text(), record.appliedAt());
        }
        Journal withVm = journal.withVm(profile.vm(), record);
        Actuator actuator = new Actuator(plans.host());
        ChangeRunner runner = new ChangeRunner(store, actuator, log);
        ChangeRunner latePins = new ChangeRunner(store, actuator, log);
        try {
            // the runner's write-ahead save records the VM too; on failure it undoes its changes and puts
            // back the journal from before this call
            Journal after = runner.run(withVm, wasApplied ? withVm : journal, profile.vm(), changes);
            if (pinThreads) {
                List<Change> late = threadsBornMeanwhile(plans.plan(profiles, List.of(ThreadPins.UNIT)), plan);
                if (!late.isEmpty()) {
                    log.accept(profile.vm() + ": " + late.size() + " thread(s) started while the others were pinned; pinning them too");
                    try {
                        latePins.run(after, after, profile.vm(), late);
                    } catch (OrchestratorException e) {
                        // undone and the journal as after the first run: the VM keeps what that run made
                        log.accept(profile.vm() + ": could not pin the late threads: " + e.getMessage());
                    }
                }
            }
        } catch (OrchestratorException e) {
            try {
                // undo failed for some: the journal keeps their before-images, but the VM is not applied
                Optional<Journal> left = store.load();
                if (left.isPresent()) {
                    store.save(wasApplied ? left.get() : left.get().withoutVm(profile.vm()));
                }
            } catch (OrchestratorException | org.vfioorchestrator.host.HostIoException ignored) {
                // the runner's message already says what the journal holds and what to run
            }
            throw e;
        }
        int done = runner.done() + latePins.done();
        List<Refusal> refused = new ArrayList<>(runner.refused());
        refused.addAll(latePins.refused());
        List<String> gone = new ArrayList<>(runner.gone());
        gone.addAll(latePins.gone());
        log.accept(profile.vm() + ": applied " + done + " changes");
        return new ApplyReport(profile.vm(), plan, done, refused, gone, archived);
    }

    /**
     * The pins of threads the first plan did not know: a thread a process starts between the listing of its
     * threads and the pinning of the thread that starts it keeps that thread's old CPUs. Once that one is
     * pinned, threads it starts inherit its CPUs, so one more look is enough.
     */
    private static List<Change> threadsBornMeanwhile(Plan again, Plan first) {
        java.util.Set<String> known = new java.util.HashSet<>();
        for (Change c : first.changes()) {
            known.add(c.path());
        }
        List<Change> late = new ArrayList<>();
        for (Change c : again.changes()) {
            if (c instanceof Change.PinThread && !known.contains(c.path())) {
                late.add(c);
            }
        }
        return late;
    }

    /** The profiles of the VMs the journal says are applied, except {@code vm}, parsed from their stored text. */
    static List<Profile> otherProfiles(PlanService plans, Journal journal, String vm) {
        List<Profile> out = new ArrayList<>();
        for (Map.Entry<String, Journal.AppliedVm> e : journal.vms().entrySet()) {
            if (!e.getKey().equals(vm)) {
                Journal.AppliedVm a = e.getValue();
                out.add(new ProfileLoader(plans.facts()).parse(a.profileText().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        a.profileSource() + " (as applied)", e.getKey()));
            }
        }
        return out;
    }
}
