package org.vfioorchestrator.profile;

import java.util.List;
import java.util.Set;

/**
 * One top-level key of a profile that a tunable owns ({@code workqueues:}, {@code governor:}, ...): its keys,
 * its value when the profile leaves it out, and how it is read and checked against the host. The loader
 * reads every registered section; {@link Profile#settings} gives a section's value back.
 *
 * @param <S> what the section reads into (a record of its settings)
 */
public interface ProfileSection<S> {
    /** The top-level key, e.g. {@code workqueues}. */
    String name();

    /** The keys of its mapping; empty for a section that is one value (e.g. {@code governor: performance}). */
    Set<String> keys();

    /** The settings of a profile without the section. */
    S defaults();

    /** Reads the section's node, reporting every problem to {@code in.walk()} (then any value may be returned). */
    S parse(YamlNode node, Input in);

    /**
     * What a section reads besides its node: the walk that collects problems, the host it is checked against,
     * and the vCPU pins read before it (the host CPUs of vCPU 0, 1, ...; some may be missing after a problem).
     */
    record Input(ProfileWalk walk, HostFacts host, List<Integer> vcpuPins) {
    }
}
