package org.vfioorchestrator.tune;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One placement {@code tune} tries: the VM's profile with a few top-level keys replaced.
 *
 * @param name      short, for the progress line and the evidence ("emulator on vCPU 0's CPU 1")
 * @param overrides profile keys and their new values, as YAML would hold them; empty: the profile as it is
 */
public record Candidate(String name, Map<String, Object> overrides) {
    public Candidate {
        overrides = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
    }

    public static Candidate asIs() {
        return new Candidate("the profile as it is", Map.of());
    }
}
