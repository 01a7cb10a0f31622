package org.vfioorchestrator.plan;

/**
 * A group a plan shows changes in: each tunable has one (several may share one, as the cpuset backends do).
 * Plans list the groups in the order of the tunables that own them.
 *
 * @param name  its name in JSON ({@code "kind": "workqueue"})
 * @param title its heading in the text plan
 */
public record ChangeKind(String name, String title) {
}
