package org.vfioorchestrator.tunable;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.profile.ProfileSection;
import org.vfioorchestrator.tunable.cpuset.Cpusets;
import org.vfioorchestrator.tunable.cstate.CStates;
import org.vfioorchestrator.tunable.governor.Governor;
import org.vfioorchestrator.tunable.irq.Irqbalance;
import org.vfioorchestrator.tunable.irq.Irqs;
import org.vfioorchestrator.tunable.partition.Partitions;
import org.vfioorchestrator.tunable.pins.ThreadPins;
import org.vfioorchestrator.tunable.workqueue.Workqueues;

/** Every tunable, in the order their changes are applied (and undone in reverse): a new one is one line here. */
public final class Tunables {
    public static final List<Tunable<?>> ALL = List.of(
            Cpusets.UNIT,
            Partitions.UNIT,
            ThreadPins.UNIT,
            Irqs.UNIT,
            Workqueues.UNIT,
            Governor.UNIT,
            CStates.UNIT,
            Irqbalance.UNIT);

    private Tunables() {
    }

    /** The profile sections of the registered tunables, in their order. */
    public static List<ProfileSection<?>> sections() {
        List<ProfileSection<?>> out = new ArrayList<>();
        for (Tunable<?> unit : ALL) {
            unit.section().ifPresent(out::add);
        }
        return out;
    }
}
