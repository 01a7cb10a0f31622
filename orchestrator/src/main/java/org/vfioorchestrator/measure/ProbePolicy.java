package org.vfioorchestrator.measure;

import java.util.Locale;
import java.util.OptionalInt;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.Sched;

/**
 * The scheduling policy a latency tool's measuring threads run with, and why that one. A vCPU
 * thread is SCHED_OTHER unless the domain sets {@code <vcpusched>}: a SCHED_FIFO probe preempts
 * whatever else runs on its CPU, so it cannot show what isolation buys such a vCPU.
 *
 * @param priority the SCHED_FIFO priority (0 for SCHED_OTHER)
 * @param reason   why this policy, for the report ("--policy", "win11 has no <vcpusched>", ...)
 */
public record ProbePolicy(Kind kind, int priority, String reason) {
    /** The priority rt-tests is usually run with, and the probe always was. */
    public static final int DEFAULT_FIFO_PRIORITY = 95;

    /** What {@code --policy} takes. */
    public enum Kind {
        OTHER, FIFO;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ProbePolicy {
        if (kind == Kind.OTHER ? priority != 0 : priority < 1 || priority > 99) {
            throw new IllegalArgumentException("priority " + priority + " does not go with " + kind);
        }
    }

    public static ProbePolicy other(String reason) {
        return new ProbePolicy(Kind.OTHER, 0, reason);
    }

    public static ProbePolicy fifo(int priority, String reason) {
        return new ProbePolicy(Kind.FIFO, priority, reason);
    }

    /** What the user asked for with {@code --policy}. */
    public static ProbePolicy given(Kind kind) {
        return kind == Kind.FIFO ? fifo(DEFAULT_FIFO_PRIORITY, "--policy fifo") : other("--policy other");
    }

    /**
     * The policy the domain's vCPU threads run with: SCHED_FIFO at the highest priority a real-time
     * {@code <vcpusched>} gives (rr is probed as fifo: one thread per CPU never shares its time
     * slice), else SCHED_OTHER (batch and idle are normal-class policies too).
     */
    public static ProbePolicy ofVcpus(Domain domain) {
        Sched realTime = null;
        for (Sched s : domain.cputune().vcpusched()) {
            if (s.realTime() && (realTime == null || priority(s) > priority(realTime))) {
                realTime = s;
            }
        }
        if (realTime != null) {
            return fifo(priority(realTime), domain.name() + "'s <vcpusched scheduler='" + realTime.scheduler()
                    + "' priority='" + priority(realTime) + "'>");
        }
        if (!domain.cputune().vcpusched().isEmpty()) {
            return other(domain.name() + "'s <vcpusched scheduler='" + domain.cputune().vcpusched().get(0).scheduler()
                    + "'> is a normal-class policy");
        }
        return other(domain.name() + " has no <vcpusched>: its vCPU threads run SCHED_OTHER");
    }

    private static int priority(Sched s) {
        OptionalInt p = s.priority();
        return p.isPresent() ? Math.max(1, Math.min(99, p.getAsInt())) : 1;
    }

    /** {@code SCHED_FIFO priority 95} or {@code SCHED_OTHER}. */
    public String label() {
        return kind == Kind.FIFO ? "SCHED_FIFO priority " + priority : "SCHED_OTHER";
    }
}
