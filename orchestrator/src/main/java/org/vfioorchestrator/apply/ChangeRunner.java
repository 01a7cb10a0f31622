package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.Change.EnableController;
import org.vfioorchestrator.plan.Change.MakeCgroup;
import org.vfioorchestrator.plan.Change.MoveProcesses;
import org.vfioorchestrator.plan.Change.PinThread;
import org.vfioorchestrator.plan.Change.WriteFile;

/**
 * Carries out changes write-ahead: the before-images of all the changes go into
 * the journal (on disk, atomically) in one save before the first change is made,
 * so a crash at any point leaves a journal that can restore the host. An entry
 * whose change was not made yet when the process died still holds its original
 * value, which revert recognises ("already restored"); an entry another VM
 * already had lists the value that may still be there as in flight (see
 * {@link JournalEntry}). If a change fails, every change this run made is rolled
 * back in reverse and the journal is put back as it was.
 *
 * <p>One save ahead, not one per change: the journal is rewritten whole each
 * time, so saving per change cost O(n^2) (86 rewrites of a growing file for the
 * example VM's start, a quarter of the hook's time).
 */
final class ChangeRunner {
    private final JournalStore store;
    private final Actuator actuator;
    private final Consumer<String> log;
    private final List<Refusal> refused = new ArrayList<>();
    private final List<String> gone = new ArrayList<>();
    private int done;

    ChangeRunner(JournalStore store, Actuator actuator, Consumer<String> log) {
        this.store = store;
        this.actuator = actuator;
        this.log = log;
    }

    List<Refusal> refused() {
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
     * If a change or the journal write fails, every change of this run is undone in reverse and the
     * journal is put back to {@code restoreTo} (the journal as it was before this call).
     */
    Journal run(Journal journal, Journal restoreTo, String vm, List<Change> changes) {
        List<Change> performed = new ArrayList<>();
        List<Actuator.Result> results = new ArrayList<>();
        if (changes.isEmpty()) {
            try {
                store.save(journal);
            } catch (HostIoException e) {
                throw abort(null, e, true, performed, results, restoreTo, vm);
            }
            return journal;
        }
        JournalEdit editAhead = new JournalEdit(journal);
        boolean differs = false; // the journal after the run differs from the one written ahead, so it is saved again
        for (Change change : changes) {
            JournalEntry known = editAhead.entry(change.path());
            JournalEntry entry = known != null ? known.ahead(change.after()) : newEntry(vm, change);
            differs |= !entry.inFlight().isEmpty(); // the run's end drops them
            editAhead.put(entry);
        }
        Journal ahead = editAhead.journal();
        try {
            store.save(ahead);
        } catch (HostIoException e) {
            throw abort(changes.get(0), e, true, performed, results, restoreTo, vm);
        }
        // the journal as it is once every change is made: no values in flight, no entries for what the kernel refused
        JournalEdit current = new JournalEdit(journal);
        for (Change change : changes) {
            JournalEntry previous = current.entry(change.path());
            current.put(previous != null ? previous.withExpected(change.after()) : newEntry(vm, change));
            Actuator.Result result;
            try {
                result = actuator.perform(change);
            } catch (HostIoException | OrchestratorException e) {
                throw abort(change, e, false, performed, results, restoreTo, vm);
            }
            switch (result.outcome()) {
                case DONE -> {
                    done++;
                    performed.add(change);
                    results.add(result);
                    log.accept("set " + change.path() + ": " + change.before() + " -> " + change.after());
                    if (change instanceof MoveProcesses) {
                        // remember every pid we moved, for the report; the undo moves whatever is inside
                        current.put(((JournalEntry.ProcessesMoved) current.entry(change.path())).withPids(result.moved()));
                        differs = true;
                    }
                }
                case REFUSED, GONE -> {
                    // nothing changed: a fresh entry goes again (revert has nothing to do for it), an existing
                    // one keeps the value we wrote before, which is still there
                    if (!(change instanceof MoveProcesses)) {
                        if (previous == null) {
                            current.remove(change.path());
                        } else {
                            current.put(previous);
                        }
                        differs = true;
                    }
                    if (result.outcome() == Actuator.Outcome.GONE) {
                        gone.add(change.path());
                        log.accept("gone " + change.path());
                    }
                }
            }
            // a refused change says what was refused and why in its result, once per IRQ or process
            for (Refusal r : result.refused()) {
                refused.add(r);
                log.accept("unmovable " + r.path() + ": " + r.what() + ", " + r.why());
            }
        }
        Journal after = current.journal();
        if (differs) {
            try {
                store.save(after);
            } catch (HostIoException e) {
                // every change is made and the journal ahead holds all their before-images: nothing is lost, it only
                // still lists values in flight and entries for what the kernel refused, both harmless to revert
                log.accept("could not tidy the journal after the changes: " + e.getMessage());
                return ahead;
            }
        }
        return after;
    }

    /**
     * Undoes what this run did. All undone: the journal goes back to {@code restoreTo}. Some undo failed:
     * the journal written ahead stays, as it holds the before-image of every change this run made.
     */
    private OrchestratorException abort(Change change, RuntimeException cause, boolean journalFailed, List<Change> performed,
            List<Actuator.Result> results, Journal restoreTo, String vm) {
        List<String> leftovers = rollback(performed, results);
        String journalNote = null;
        // a failed save ahead left the journal on disk as it was (written atomically): nothing to put back
        if (leftovers.isEmpty() && !journalFailed) {
            try {
                store.save(restoreTo); // an empty journal: the file is removed, which needs no space
            } catch (HostIoException e) {
                journalNote = "The journal " + store.journalPath() + " could not be put back (" + e.getMessage()
                        + "); it still lists what this run touched, all undone now"
                        + (restoreTo.vms().containsKey(vm) ? ", which revert will find already restored."
                        : ". Once /run has space again, run 'vfio-orchestrator revert " + vm + "' to tidy it up.");
            }
        }
        return failure(store.journalPath(), change, cause, journalFailed, performed.size(), leftovers, journalNote);
    }

    private List<String> rollback(List<Change> performed, List<Actuator.Result> results) {
        List<String> failures = new ArrayList<>();
        for (int i = performed.size() - 1; i >= 0; i--) {
            failures.addAll(actuator.rollback(performed.get(i), results.get(i)));
        }
        try {
            actuator.finish();
        } catch (HostIoException e) {
            failures.add(e.getMessage());
        }
        log.accept("rolled back " + performed.size() + " changes" + (failures.isEmpty() ? "" : ", " + failures.size() + " failed"));
        return failures;
    }

    private static OrchestratorException failure(String journalPath, Change change, RuntimeException e, boolean journalFailed,
            int undone, List<String> leftovers, String journalNote) {
        String what = journalFailed ? "could not write the journal " + journalPath + ": " + e.getMessage()
                : "could not " + describe(change) + ": " + e.getMessage();
        List<String> lines = new ArrayList<>();
        if (journalFailed) {
            lines.add(what + ". Nothing was changed" + (e instanceof HostIoException h && h.errno() == Errno.ENOSPC
                    ? "; make room in /run (df /run) and try again." : "."));
        } else if (leftovers.isEmpty()) {
            lines.add(what + ". Nothing was changed: the " + undone + " earlier changes were undone.");
        } else {
            lines.add(what + ". Undoing the " + undone + " earlier changes failed for " + leftovers.size() + ":");
            for (String l : leftovers) {
                lines.add("  " + l);
            }
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

    /** The before-image of a change no entry has yet: what is there now is the original. */
    private static JournalEntry newEntry(String vm, Change change) {
        if (change instanceof WriteFile w) {
            return new JournalEntry.FileWritten(w.path(), w.before(), w.after(), w.format(), vm, List.of());
        }
        if (change instanceof EnableController e) {
            return new JournalEntry.ControllerEnabled(e.path(), e.before(), e.after(), vm);
        }
        if (change instanceof MakeCgroup m) {
            return new JournalEntry.CgroupMade(m.path(), m.before(), m.after(), vm);
        }
        if (change instanceof MoveProcesses m) {
            return new JournalEntry.ProcessesMoved(m.path(), m.before(), m.after(), m.from(), List.of(), vm);
        }
        if (change instanceof Change.SetUnitProperty u) {
            return new JournalEntry.UnitPropertySet(u.path(), u.before(), u.after(), vm, u.unit(), u.property(), u.dropInBefore(),
                    List.of());
        }
        PinThread p = (PinThread) change;
        return new JournalEntry.ThreadPinned(p.path(), p.from().toString(), p.to().toString(), p.vm(), p.tid(), p.startTime(),
                p.threadName(), List.of());
    }
}
