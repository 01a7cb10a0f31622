package org.vfioorchestrator.plan;

/**
 * A group a plan shows changes in: each tunable has one (several may share one, as the cpuset backends do).
 * Plans list the groups in the order of the tunables that own them.
 *
 * @param name  its name in JSON ({@code "kind": "workqueue"})
 * @param title its heading in the text plan
 */
public record ChangeKind(String name, String title) {
    // written out: the generated ones are linked through method handles at their first call, which costs a hook
    // call's fresh JVM more than the planning that calls them
    @Override
    public boolean equals(Object o) {
        return o instanceof ChangeKind k && name.equals(k.name) && title.equals(k.title);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + title.hashCode();
    }
}
