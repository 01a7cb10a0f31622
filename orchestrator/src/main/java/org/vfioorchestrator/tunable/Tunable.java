package org.vfioorchestrator.tunable;

import java.util.Optional;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.profile.ProfileSection;

/**
 * One tunable of the host (cpusets, thread pins, IRQs, workqueues, governor, C-states), shaped like a tuned
 * plugin: it owns its profile section, reads the host facts it plans from, and plans its changes. It undoes
 * nothing itself: its changes are the shared {@link org.vfioorchestrator.plan.Change} kinds, which the journal
 * records and {@code apply} undoes, so a new tunable gets crash-safe revert for free. {@link Tunables} lists
 * every unit in the order their changes are applied.
 *
 * @param <F> what it reads from the host: a value (a record) the planner hands back to {@link #plan}, so
 *            that planning stays a pure function of what was read
 */
public interface Tunable<F> {
    /** The group its changes and unmovable items are shown in. */
    ChangeKind kind();

    /** The profile section it owns, if it has one. */
    default Optional<ProfileSection<?>> section() {
        return Optional.empty();
    }

    /** Reads what it plans from: only what {@code scope} needs (the hook reads on every VM start). */
    F read(HostFs host, ReadScope scope);

    /** Adds its changes, unmovable items and warnings to {@code plan}; reads nothing, writes nothing. */
    void plan(F facts, Planning plan);
}
