package org.vfioorchestrator.testing;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counts what the hostile-input and fault tests tried, for RELIABILITY.md. Each
 * test class counts into its own tally and prints one line when it ends:
 *
 * <pre>RELIABILITY HostileInputTest: bad inputs 131, state lost 0</pre>
 *
 * "state lost" counts cases whose after-check found a host or journal not as
 * promised; such a case also fails its test, so a green build prints 0.
 */
public final class Tally {
    private final String name;
    private final Map<String, Integer> counts = new TreeMap<>();

    public Tally(String name) {
        this.name = name;
    }

    public synchronized void add(String what) {
        counts.merge(what, 1, Integer::sum);
    }

    /** One injected fault of {@code kind}: counted in all and by kind. */
    public synchronized void fault(String kind) {
        add("faults injected");
        add("fault: " + kind);
    }

    public synchronized int get(String what) {
        return counts.getOrDefault(what, 0);
    }

    /** Prints {@code RELIABILITY name: what n, ...} on stdout (surefire shows it in the test output). */
    public synchronized void print() {
        StringBuilder sb = new StringBuilder("RELIABILITY " + name + ":");
        String sep = " ";
        counts.putIfAbsent("state lost", 0);
        for (var e : counts.entrySet()) {
            sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
            sep = ", ";
        }
        System.out.println(sb);
    }
}
