package org.vfioorchestrator.plan;

/** Something the plan leaves where it is, and why: a managed IRQ, a per-CPU kernel thread, a kept process. */
public record Unmovable(ChangeKind kind, String path, String what, String why) {
}
