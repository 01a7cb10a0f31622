package org.vfioorchestrator.plan;

import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * One step of a plan: what it touches, the value there now, the value it
 * will write, and why. Each kind of step knows how it is undone (see
 * {@code apply.Actuator}); the tunables share them, each naming its own {@link ChangeKind}.
 */
public sealed interface Change {
    ChangeKind kind();

    /** The host path this step touches; also the journal key for undoing it. */
    String path();

    String before();

    String after();

    String reason();

    /** Writes a value into an existing kernel file; undone by writing the old value back. */
    record WriteFile(ChangeKind kind, String path, String before, String after, ValueFormat format, String reason)
            implements Change {
    }

    /** {@code +controller} into a cgroup v2 {@code cgroup.subtree_control}; undone by {@code -controller}. */
    record EnableController(ChangeKind kind, String path, String controller, String before, String reason) implements Change {
        @Override
        public String after() {
            return "+" + controller;
        }
    }

    /** Creates a cgroup (v1 host cpuset); undone by removing it once it is empty. */
    record MakeCgroup(ChangeKind kind, String path, String reason) implements Change {
        @Override
        public String before() {
            return "(absent)";
        }

        @Override
        public String after() {
            return "(created)";
        }
    }

    /**
     * Moves processes from one cgroup into another (v1); undone by moving
     * everything in {@code to} back to {@code from}, whoever started since.
     */
    record MoveProcesses(ChangeKind kind, String from, String to, List<Integer> pids, String reason) implements Change {
        @Override
        public String path() {
            return to + "/cgroup.procs";
        }

        @Override
        public String before() {
            return pids.size() + " processes in " + from;
        }

        @Override
        public String after() {
            return "in " + to;
        }
    }

    /** Pins one QEMU thread; {@code startTime} guards against a reused thread id. */
    record PinThread(ChangeKind kind, String vm, int pid, int tid, long startTime, String threadName, CpuSet from, CpuSet to,
            String reason) implements Change {
        @Override
        public String path() {
            return "/proc/" + pid + "/task/" + tid;
        }

        @Override
        public String before() {
            return from.toString();
        }

        @Override
        public String after() {
            return to.toString();
        }
    }

    /**
     * A systemd unit's property until the next boot ({@code systemctl set-property --runtime}); systemd keeps
     * it in the drop-in {@link #path()}. Undone by setting the property back and putting that drop-in back
     * as it was ({@code dropInBefore}, null where there was none), then a daemon-reload.
     */
    record SetUnitProperty(ChangeKind kind, String unit, String property, String before, String after, String dropInBefore,
            String reason) implements Change {
        @Override
        public String path() {
            return org.vfioorchestrator.host.Systemd.dropIn(unit, property);
        }
    }
}
