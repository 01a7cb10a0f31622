package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;

/**
 * Puts the host back. With other VMs still applied, what they still need
 * stays and the rest is restored; the last VM out restores everything. Walks
 * the journal in reverse; one failing entry never stops the others; a value
 * someone changed since we wrote it is left alone and reported (drift) unless
 * forced.
 */
public final class Reverter {
    private final PlanService plans;
    private final JournalStore store;
    private final Consumer<String> log;

    public Reverter(PlanService plans, Consumer<String> log) {
        this.plans = plans;
        this.store = new JournalStore(plans.host());
        this.log = log;
    }

    /** Reverts one VM ({@code vm}), or with {@code vm == null} everything the journal holds. */
    public RevertReport revert(String vm, boolean force) {
        try (AutoCloseable lock = store.lock(Applier.LOCK_WAIT)) {
            return revertLocked(vm, force);
        } catch (OrchestratorException | HostIoException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private RevertReport revertLocked(String vm, boolean force) {
        Journal journal = store.load().orElse(null);
        if (journal == null) {
            return new RevertReport(vm, false, 0, 0, List.of(), List.of(), List.of());
        }
        String bootId = store.currentBootId();
        if (!journal.bootId().equals(bootId)) {
            throw OrchestratorException.state(store.journalPath() + " is from an earlier boot (" + journal.bootId()
                    + ", now " + bootId + "): the kernel settings it recorded were reset by the reboot, so it is not"
                    + " applied. Move it aside: mv " + store.journalPath() + " " + store.journalPath() + ".old");
        }
        for (String r : journal.refused()) {
            log.accept("refused journal entry, not restored: " + r);
        }
        boolean all = vm == null;
        if (!all && !journal.vms().containsKey(vm)) {
            return new RevertReport(vm, false, 0, 0, List.of(), List.of(), List.copyOf(journal.vms().keySet()));
        }
        List<Profile> remaining = all ? List.of() : Applier.otherProfiles(plans, journal, vm);
        Plan keep = remaining.isEmpty() ? null : plans.plan(remaining);

        Actuator actuator = new Actuator(plans.host());
        Journal current = all ? new Journal(journal.bootId(), java.util.Map.of(), journal.entries()) : journal.withoutVm(vm);
        int restored = 0;
        int already = 0;
        List<String> drift = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        List<String> substituted = new ArrayList<>();
        Set<String> restoredPaths = new HashSet<>(); // out of the journal once the loop is done
        List<JournalEntry> entries = new ArrayList<>(journal.entries());
        for (int i = entries.size() - 1; i >= 0; i--) {
            JournalEntry e = entries.get(i);
            if (keep != null && keep.controls(e.path()) && !(e instanceof JournalEntry.ThreadPinned && vm.equals(e.vm()))) {
                continue; // another running VM still needs it; re-asserted below
            }
            Actuator.Undo undo = actuator.undo(e, force);
            switch (undo.status()) {
                case RESTORED -> {
                    restored++;
                    log.accept("restored " + e.path() + (e instanceof JournalEntry.FileWritten ? " = " + e.original() : ""));
                }
                case SUBSTITUTED -> {
                    restored++;
                    substituted.add(e.path() + ": " + undo.detail());
                    log.accept("restored " + e.path() + ": " + undo.detail());
                }
                case ALREADY -> already++;
                case GONE -> {
                    already++;
                    if (!(e instanceof JournalEntry.ThreadPinned)) {
                        gone.add(e.path() + ": " + undo.detail());
                        log.accept("gone " + e.path() + ": " + undo.detail());
                    }
                }
                case DRIFT -> {
                    drift.add(e.path() + ": " + undo.detail());
                    log.accept("drift " + e.path() + ": " + undo.detail());
                    continue;
                }
                case FAILED -> {
                    failed.add(e.path() + ": " + undo.detail());
                    log.accept("failed " + e.path() + ": " + undo.detail());
                    continue;
                }
            }
            // the journal is saved once, below: after a crash before that, an entry restored here finds its
            // original value in place next time and counts as already restored
            restoredPaths.add(e.path());
        }
        try {
            actuator.finish();
        } catch (HostIoException ex) {
            failed.add("systemctl daemon-reload, after putting systemd's drop-ins back: " + ex.getMessage());
        }
        // a substitute the revert took away with its cgroup's cpuset controller afterwards is no longer worth a word
        substituted.removeIf(s -> !plans.host().exists(s.substring(0, s.indexOf(": "))));
        current = current.without(restoredPaths);
        if (keep != null && !keep.changes().isEmpty()) {
            // the VMs still running may now get more host CPUs back (e.g. a wider host cpuset)
            ChangeRunner runner = new ChangeRunner(store, actuator, log);
            try {
                // the journal names this VM until the last save below: after a crash or a failure on the way,
                // 'revert VM' again finishes the job
                Journal stillNamed = current.withVm(vm, journal.vms().get(vm));
                current = runner.run(stillNamed, stillNamed, remaining.get(0).vm(), keep.changes()).withoutVm(vm);
                restored += runner.done();
            } catch (OrchestratorException e) {
                failed.add("what the VMs still running need back (" + String.join(", ", Profile.vmsOf(remaining)) + "): "
                        + e.getMessage());
                log.accept("failed to re-assert the running VMs' settings: " + e.getMessage());
            }
        }
        if (!all && (!drift.isEmpty() || !failed.isEmpty())) {
            current = current.withVm(vm, journal.vms().get(vm)); // so 'revert VM [--force]' can finish the job
        }
        try {
            store.save(current); // an empty journal is removed, which needs no space
        } catch (HostIoException ex) {
            failed.add(store.journalPath() + ": could not be updated (" + ex.getMessage() + "); it still lists settings"
                    + " restored now (restoring them again changes nothing)");
        }
        log.accept((all ? "all" : vm) + ": reverted, " + restored + " restored, " + drift.size() + " drifted, "
                + failed.size() + " failed");
        List<String> running = new ArrayList<>(new TreeSet<>(current.vms().keySet()));
        running.remove(vm);
        return new RevertReport(vm, true, restored, already, drift, failed, List.copyOf(running), gone, journal.refused(),
                substituted);
    }
}
