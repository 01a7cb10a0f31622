package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.Change.EnableController;
import org.vfioorchestrator.plan.Change.MakeCgroup;
import org.vfioorchestrator.plan.Change.MoveProcesses;
import org.vfioorchestrator.plan.Change.PinThread;
import org.vfioorchestrator.plan.Change.WriteFile;

/**
 * Carries out changes write-ahead: the before-image goes into the journal (on
 * disk, atomically) before each change is made, so a crash at any point leaves
 * a journal that can restore the host. If a change fails, every change this
 * run made is rolled back in reverse and the journal is put back as it was.
 */
final class ChangeRunner {
    private final JournalStore store;
    private final Actuator actuator;
    private final Consumer<String> log;
    private final List<String> refused = new ArrayList<>();
    private final List<String> gone = new ArrayList<>();
    private int done;

    ChangeRunner(JournalStore store, Actuator actuator, Consumer<String> log) {
        this.store = store;
        this.actuator = actuator;
        this.log = log;
    }

    List<String> refused() {
        return refused;
    }

    List<String> gone() {
        return gone;
    }

    int done() {
        return done;
    }

    /** Runs the changes starting from {@code journal}; returns the journal afterwards (already saved). */
    Journal run(Journal journal, String vm, List<Change> changes) {
        return run(journal, journal, vm, changes);
    }

    /**
     * Runs the changes starting from {@code journal}; returns the journal afterwards (already saved).
     * If a change or a journal write fails, every change of this run is undone in reverse and the
     * journal is put back to {@code restoreTo} (the journal as it was before this call).
     */
    Journal run(Journal journal, Journal restoreTo, String vm, List<Change> changes) {
        Journal current = journal;
        List<Change> performed = new ArrayList<>();
        List<Actuator.Result> results = new ArrayList<>();
        for (Change change : changes) {
            JournalEntry entry = current.entry(change.path()).map(e -> e.withExpected(change.after()))
                    .orElseGet(() -> newEntry(vm, change));
            current = current.with(entry);
            save(current, change, performed, results, restoreTo);
            Actuator.Result result;
            try {
                result = actuator.perform(change);
            } catch (HostIoException | OrchestratorException e) {
                throw abort(change, e, false, performed, results, current, restoreTo);
            }
            switch (result.outcome()) {
                case DONE -> {
                    done++;
                    performed.add(change);
                    results.add(result);
                    log.accept("set " + change.path() + ": " + change.before() + " -> " + change.after());
                    if (change instanceof MoveProcesses m) {
                        // remember every pid we moved, for the report; the undo moves whatever is inside
                        current = current.with(entryWithPids(current.entry(change.path()).orElseThrow(), result.moved()));
                        save(current, change, performed, results, restoreTo);
                    }
                }
                case REFUSED, GONE -> {
                    // nothing changed: drop a fresh entry again so revert has nothing to do for it
                    if (journal.entry(change.path()).isEmpty() && !(change instanceof MoveProcesses)) {
                        current = current.without(change.path());
                        save(current, change, performed, results, restoreTo);
                    }
                    (result.outcome() == Actuator.Outcome.REFUSED ? refused : gone).add(change.path());
                    log.accept((result.outcome() == Actuator.Outcome.REFUSED ? "unmovable " : "gone ") + change.path());
                }
            }
            for (String r : result.refused()) {
                refused.add(r);
                log.accept("unmovable " + r);
            }
        }
        return current;
    }

    /**
     * Writes the journal; if that fails (a full or read-only /run), nothing more is changed: what this
     * run did is undone, because a change whose before-image is not on disk could be lost.
     */
    private void save(Journal j, Change next, List<Change> performed, List<Actuator.Result> results, Journal restoreTo) {
        try {
            store.save(j);
        } catch (HostIoException e) {
            throw abort(next, e, true, performed, results, j, restoreTo);
        }
    }

    private OrchestratorException abort(Change change, RuntimeException cause, boolean journalFailed, List<Change> performed,
            List<Actuator.Result> results, Journal current, Journal restoreTo) {
        List<String> leftovers = rollback(performed, results);
        String journalNote = null;
        try {
            // all undone: back to the journal from before this run (empty: the file is removed, which needs no space)
            store.save(leftovers.isEmpty() ? restoreTo : current);
        } catch (HostIoException e) {
            // the last journal that was written still holds a before-image of everything this run changed
            String vm = vmOf(current, restoreTo);
            journalNote = "The journal " + store.journalPath() + " could not be put back (" + e.getMessage() + ")"
                    + (leftovers.isEmpty() ? "; it still lists what this run touched, all undone now. Once /run has space"
                    + " again, run 'vfio-orchestrator revert " + (vm == null ? "--all" : vm) + "' to tidy it up."
                    : "; it holds the before-images above. Once /run has space again, run 'vfio-orchestrator revert --all'.");
        }
        return failure(change, cause, journalFailed, performed.size(), leftovers, journalNote);
    }

    /** The VM this run added to the journal, if exactly one. */
    private static String vmOf(Journal current, Journal restoreTo) {
        List<String> added = current.vms().keySet().stream().filter(v -> !restoreTo.vms().containsKey(v)).toList();
        return added.size() == 1 ? added.get(0) : null;
    }

    private List<String> rollback(List<Change> performed, List<Actuator.Result> results) {
        List<String> failures = new ArrayList<>();
        for (int i = performed.size() - 1; i >= 0; i--) {
            failures.addAll(actuator.rollback(performed.get(i), results.get(i)));
        }
        log.accept("rolled back " + performed.size() + " changes" + (failures.isEmpty() ? "" : ", " + failures.size() + " failed"));
        return failures;
    }

    private static OrchestratorException failure(Change change, RuntimeException e, boolean journalFailed, int undone,
            List<String> leftovers, String journalNote) {
        String what = journalFailed ? "could not write the journal before the next change (to " + describe(change) + "): "
                + e.getMessage() : "could not " + describe(change) + ": " + e.getMessage();
        List<String> lines = new ArrayList<>();
        if (leftovers.isEmpty()) {
            lines.add(what + ". Nothing was changed: the " + undone + " earlier changes were undone.");
        } else {
            lines.add(what + ". Undoing the " + undone + " earlier changes failed for " + leftovers.size() + ":");
            leftovers.forEach(l -> lines.add("  " + l));
            lines.add("The journal keeps their before-images: run 'vfio-orchestrator revert --all' to retry.");
        }
        if (journalNote != null) {
            lines.add(journalNote);
        }
        ExitCode code = e instanceof OrchestratorException oe ? oe.exitCode() : ExitCode.HOST_OR_DATA;
        return new OrchestratorException(code, lines);
    }

    private static String describe(Change change) {
        if (change instanceof PinThread p) {
            return "pin '" + p.threadName() + "' (tid " + p.tid() + ") to CPUs " + p.to();
        }
        if (change instanceof MakeCgroup m) {
            return "create " + m.path();
        }
        return "set " + change.path() + " to " + change.after();
    }

    private static JournalEntry newEntry(String vm, Change change) {
        if (change instanceof WriteFile w) {
            return new JournalEntry(JournalEntry.Type.WRITE, w.path(), w.before(), w.after(), w.format(), null, null, vm, 0, 0,
                    null);
        }
        if (change instanceof EnableController e) {
            return new JournalEntry(JournalEntry.Type.ENABLE_CONTROLLER, e.path(), e.before(), e.after(), null, null, null, vm,
                    0, 0, null);
        }
        if (change instanceof MakeCgroup m) {
            return new JournalEntry(JournalEntry.Type.MAKE_CGROUP, m.path(), m.before(), m.after(), null, null, null, vm, 0, 0,
                    null);
        }
        if (change instanceof MoveProcesses m) {
            return new JournalEntry(JournalEntry.Type.MOVE_PROCESSES, m.path(), m.before(), m.after(), null, m.from(),
                    List.of(), vm, 0, 0, null);
        }
        PinThread p = (PinThread) change;
        return new JournalEntry(JournalEntry.Type.PIN_THREAD, p.path(), p.from().toString(), p.to().toString(), null, null,
                null, p.vm(), p.tid(), p.startTime(), p.threadName());
    }

    private static JournalEntry entryWithPids(JournalEntry e, List<Integer> moved) {
        List<Integer> pids = new ArrayList<>(e.pids() == null ? List.of() : e.pids());
        moved.stream().filter(p -> !pids.contains(p)).forEach(pids::add);
        return new JournalEntry(e.type(), e.path(), e.original(), e.expected(), e.format(), e.from(), List.copyOf(pids), e.vm(),
                e.tid(), e.startTime(), e.label());
    }
}
