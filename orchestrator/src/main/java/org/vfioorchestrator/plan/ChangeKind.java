package org.vfioorchestrator.plan;

/** The groups a plan is shown in, in the order changes are applied. */
public enum ChangeKind {
    CPUSET("cpusets"),
    THREAD("threads"),
    IRQ("IRQs"),
    WORKQUEUE("workqueues"),
    GOVERNOR("governor"),
    CSTATE("C-states");

    private final String title;

    ChangeKind(String title) {
        this.title = title;
    }

    public String title() {
        return title;
    }
}
