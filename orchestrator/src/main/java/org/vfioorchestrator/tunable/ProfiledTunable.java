package org.vfioorchestrator.tunable;

import java.util.Optional;
import java.util.Set;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.profile.ProfileSection;

/**
 * A tunable that owns a profile section, as most do: it is its own section, so one class holds the section,
 * the host reading and the plan. Subclasses give {@link #parse}, {@link #read} and {@link #plan}.
 *
 * @param <F> what it reads from the host
 * @param <S> what its section reads into
 */
public abstract class ProfiledTunable<F, S> implements Tunable<F>, ProfileSection<S> {
    private final ChangeKind kind;
    private final String name;
    private final Set<String> keys;
    private final S defaults;

    /** {@code keys}: those of the section's mapping, none for a section that is one value. */
    protected ProfiledTunable(ChangeKind kind, String name, Set<String> keys, S defaults) {
        this.kind = kind;
        this.name = name;
        this.keys = Set.copyOf(keys);
        this.defaults = defaults;
    }

    @Override
    public final ChangeKind kind() {
        return kind;
    }

    @Override
    public final Optional<ProfileSection<?>> section() {
        return Optional.of(this);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Set<String> keys() {
        return keys;
    }

    @Override
    public final S defaults() {
        return defaults;
    }
}
