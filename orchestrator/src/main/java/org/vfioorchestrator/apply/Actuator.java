package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.Systemd;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.Change.EnableController;
import org.vfioorchestrator.plan.Change.MakeCgroup;
import org.vfioorchestrator.plan.Change.MoveProcesses;
import org.vfioorchestrator.plan.Change.PinThread;
import org.vfioorchestrator.plan.Change.SetUnitProperty;
import org.vfioorchestrator.plan.Change.WriteFile;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.qemu.QemuProcess;

/**
 * Carries out one change, undoes one journal entry, or rolls back one change,
 * all through {@link HostFs}. The kernel's known refusals are outcomes, not
 * failures: a managed IRQ (EIO/EPERM), a per-CPU kernel thread (EINVAL), a
 * thread or process that exited (ESRCH), an IRQ whose device is gone (ENOENT).
 */
final class Actuator {
    private final HostFs host;
    /** A drop-in of systemd's was put back by hand: it must read them again (see {@link #finish}). */
    private boolean dropInsRestored;

    Actuator(HostFs host) {
        this.host = host;
    }

    enum Outcome { DONE, REFUSED, GONE }

    /** What a change did; {@code refused} lists what the kernel would not move (managed IRQs, per-CPU kthreads). */
    record Result(Outcome outcome, List<Refusal> refused, List<Integer> moved) {
        static Result of(Outcome o) {
            return new Result(o, List.of(), List.of());
        }
    }

    Result perform(Change change) {
        if (change instanceof WriteFile w) {
            return writeFile(w);
        } else if (change instanceof EnableController e) {
            host.write(e.path(), "+" + e.controller());
        } else if (change instanceof MakeCgroup m) {
            host.mkdir(m.path());
        } else if (change instanceof MoveProcesses m) {
            return move(m.pids(), m.to());
        } else if (change instanceof PinThread p) {
            return pin(p.pid(), p.tid(), p.startTime(), p.to());
        } else if (change instanceof SetUnitProperty u) {
            systemd().setRuntimeProperty(u.unit(), u.property(), u.after());
        }
        return Result.of(Outcome.DONE);
    }

    private Systemd systemd() {
        return host.systemd().orElseThrow(() -> new HostIoException("/run/systemd/system", Errno.ENOENT,
                "systemd does not run on this host, yet the plan or journal says it confined CPUs through it"));
    }

    /** What a run or revert owes systemd at its end: a daemon-reload once drop-ins were put back by hand. */
    void finish() {
        if (dropInsRestored) {
            dropInsRestored = false;
            systemd().reload();
        }
    }

    /** Puts a runtime drop-in back as it was: its exact text, or no file (and no directory left empty) where there was none. */
    private void restoreDropIn(String path, String before) {
        if (before != null) {
            host.replaceAtomically(path, before.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } else if (host.exists(path)) {
            host.delete(path);
            removeEmptyDropInDirectories(path);
        }
        dropInsRestored = true;
    }

    /** systemd made the unit's directory and its own for a drop-in; left empty, they go too. */
    private void removeEmptyDropInDirectories(String dropIn) {
        for (String dir = dropIn.substring(0, dropIn.lastIndexOf('/')); dir.startsWith(Systemd.CONTROL);
                dir = dir.substring(0, dir.lastIndexOf('/'))) {
            if (!host.isDirectory(dir)) {
                continue; // removed already, by a revert that died before the next
            }
            if (!host.list(dir).isEmpty()) {
                break;
            }
            host.rmdir(dir);
        }
    }

    private Result writeFile(WriteFile w) {
        try {
            host.write(w.path(), w.after());
            if (w.format() == ValueFormat.PARTITION) {
                return checkPartition(w);
            }
            return Result.of(Outcome.DONE);
        } catch (HostIoException e) {
            if (w.path().startsWith("/proc/irq/") && (e.errno() == Errno.EIO || e.errno() == Errno.EPERM)) {
                String irq = w.path().substring("/proc/irq/".length(), w.path().indexOf('/', "/proc/irq/".length()));
                return new Result(Outcome.REFUSED, List.of(new Refusal(w.path(), "IRQ " + irq,
                        "managed by the kernel, which keeps its affinity (" + e.errno() + ")")), List.of());
            }
            if (w.format() == ValueFormat.PARTITION && (e.errno() == Errno.ENOENT || e.errno() == Errno.EINVAL
                    || e.errno() == Errno.EBUSY)) {
                return new Result(Outcome.REFUSED, List.of(new Refusal(w.path(), partitionName(w.path()),
                        partitionRefused(w.after(), e.errno()))), List.of());
            }
            if (w.path().startsWith("/proc/irq/") && e.errno() == Errno.ENOENT) {
                return Result.of(Outcome.GONE); // the device went away
            }
            throw e;
        }
    }

    /**
     * The kernel takes any partition state and reports later whether it could make it ("isolated invalid
     * (reason)"); an invalid one isolates nothing, so it goes back to what it was and counts as refused.
     */
    private Result checkPartition(WriteFile w) {
        String now = host.read(w.path()).orElse("").strip();
        if (!now.contains(" invalid")) {
            return Result.of(Outcome.DONE);
        }
        host.write(w.path(), w.before());
        return new Result(Outcome.REFUSED, List.of(new Refusal(w.path(), partitionName(w.path()),
                "the kernel made it '" + now + "', so it stays " + w.before())), List.of());
    }

    /** "machine.slice as a partition", for the cgroup whose cpuset.cpus.partition is {@code path}. */
    private static String partitionName(String path) {
        String cgroup = path.substring(0, path.lastIndexOf('/'));
        return cgroup.substring(cgroup.lastIndexOf('/') + 1) + " as a partition";
    }

    /**
     * Why the kernel refused a partition outright: before 5.0 it has none, and before 6.1 it refuses what it cannot
     * make rather than reporting it invalid afterwards ('isolated' is unknown there: EINVAL).
     */
    private static String partitionRefused(String type, Errno errno) {
        return switch (errno) {
            case ENOENT -> "this kernel has no cpuset.cpus.partition";
            case EINVAL -> type.equals("isolated")
                    ? "this kernel does not know 'isolated' (EINVAL; Linux 6.1 brought it): partition: root may work"
                    : "the kernel refused '" + type + "' (EINVAL): before Linux 6.1 it makes a partition only of CPUs no"
                    + " sibling cgroup holds that leave its parent some";
            default -> "the kernel refused '" + type + "' (" + errno + "): before Linux 6.1 it changes a partition only"
                    + " while the cgroup has no child cgroups with cpusets";
        };
    }

    private Result move(List<Integer> pids, String toDir) {
        List<Refusal> refused = new ArrayList<>();
        List<Integer> moved = new ArrayList<>();
        for (int pid : pids) {
            try {
                host.write(toDir + "/cgroup.procs", Integer.toString(pid));
                moved.add(pid);
            } catch (HostIoException e) {
                if (e.errno() == Errno.ESRCH) {
                    continue; // exited meanwhile
                }
                if (e.errno() == Errno.EINVAL) {
                    refused.add(new Refusal(toDir + "/cgroup.procs", "pid " + pid, "a per-CPU kernel thread (EINVAL)"));
                    continue;
                }
                // undo our own partial move before reporting: the caller rolls back earlier steps
                moveBack(moved, toDir.substring(0, toDir.lastIndexOf('/')));
                throw e;
            }
        }
        return new Result(moved.isEmpty() && !pids.isEmpty() ? Outcome.REFUSED : Outcome.DONE, refused, moved);
    }

    private List<String> moveBack(List<Integer> pids, String fromDir) {
        List<String> failures = new ArrayList<>();
        for (int pid : pids) {
            try {
                host.write(fromDir + "/cgroup.procs", Integer.toString(pid));
            } catch (HostIoException e) {
                if (e.errno() != Errno.ESRCH) {
                    failures.add("pid " + pid + ": " + e.getMessage());
                }
            }
        }
        return failures;
    }

    private Result pin(int pid, int tid, long startTime, CpuSet cpus) {
        if (!sameThread(pid, tid, startTime)) {
            return Result.of(Outcome.GONE);
        }
        try {
            host.setThreadAffinity(tid, cpus);
            return Result.of(Outcome.DONE);
        } catch (HostIoException e) {
            if (e.errno() == Errno.ESRCH) {
                return Result.of(Outcome.GONE);
            }
            throw e;
        }
    }

    /** The thread still exists and is the one we saw (not a new thread that got the same id). */
    private boolean sameThread(int pid, int tid, long startTime) {
        Optional<String> stat = host.read("/proc/" + pid + "/task/" + tid + "/stat");
        return stat.isPresent() && QemuProcess.startTime(stat.get()) == startTime;
    }

    /** Puts back what one change of the current call did; used when a later step fails. */
    List<String> rollback(Change change, Result result) {
        try {
            if (change instanceof WriteFile w) {
                restoreFile(w.path(), w.before());
            } else if (change instanceof EnableController e) {
                host.write(e.path(), "-" + e.controller());
            } else if (change instanceof MakeCgroup m) {
                host.rmdir(m.path());
            } else if (change instanceof MoveProcesses m) {
                return moveBack(result.moved(), m.from());
            } else if (change instanceof PinThread p && sameThread(p.pid(), p.tid(), p.startTime())) {
                host.setThreadAffinity(p.tid(), p.from());
            } else if (change instanceof SetUnitProperty u) {
                systemd().setRuntimeProperty(u.unit(), u.property(), u.before());
                restoreDropIn(u.path(), u.dropInBefore());
            }
            return List.of();
        } catch (HostIoException e) {
            return List.of(e.getMessage());
        }
    }

    /** {@code SUBSTITUTED}: restored as near as the kernel allows, the detail says how. */
    enum UndoStatus { RESTORED, SUBSTITUTED, ALREADY, GONE, DRIFT, FAILED }

    record Undo(UndoStatus status, String detail) {
    }

    /** Restores one journal entry's before-image; drift (someone else changed it) is left alone unless forced. */
    Undo undo(JournalEntry e, boolean force) {
        try {
            if (e instanceof JournalEntry.FileWritten w) {
                return undoWrite(w, force);
            }
            if (e instanceof JournalEntry.ControllerEnabled) {
                String now = host.read(e.path()).orElse("");
                if (KernelText.words(e.original()).contains("cpuset") || !KernelText.words(now).contains("cpuset")) {
                    return new Undo(UndoStatus.ALREADY, "");
                }
                host.write(e.path(), "-cpuset");
                return new Undo(UndoStatus.RESTORED, "");
            }
            if (e instanceof JournalEntry.CgroupMade) {
                if (!host.exists(e.path())) {
                    return new Undo(UndoStatus.ALREADY, "");
                }
                host.rmdir(e.path());
                return new Undo(UndoStatus.RESTORED, "");
            }
            if (e instanceof JournalEntry.ProcessesMoved m) {
                List<Integer> inside = new ArrayList<>();
                for (String line : host.read(m.to() + "/cgroup.procs").orElse("").split("\n")) {
                    if (!line.isBlank()) {
                        inside.add(Integer.parseInt(line.strip()));
                    }
                }
                List<String> failures = moveBack(inside, m.from());
                return failures.isEmpty() ? new Undo(UndoStatus.RESTORED, inside.size() + " processes")
                        : new Undo(UndoStatus.FAILED, String.join("; ", failures));
            }
            if (e instanceof JournalEntry.UnitPropertySet u) {
                return undoUnitProperty(u, force);
            }
            return undoPin((JournalEntry.ThreadPinned) e, force);
        } catch (HostIoException ex) {
            return new Undo(UndoStatus.FAILED, ex.getMessage());
        }
    }

    private Undo undoWrite(JournalEntry.FileWritten e, boolean force) {
        Optional<String> now = host.read(e.path());
        if (now.isEmpty()) {
            return new Undo(UndoStatus.GONE, "no longer exists");
        }
        if (e.format().same(now.get(), e.original())) {
            return new Undo(UndoStatus.ALREADY, "");
        }
        if (!force && !e.wroteValue(now.get()) && !substitutedBefore(e, now.get())) {
            return new Undo(UndoStatus.DRIFT, "now '" + now.get().strip() + "', we wrote '" + e.expected()
                    + "', before us it was '" + e.original() + "'");
        }
        String substitute = restoreFile(e.path(), e.original());
        return substitute == null ? new Undo(UndoStatus.RESTORED, "") : new Undo(UndoStatus.SUBSTITUTED, substitute);
    }

    /** Writes a before-image back; null when it was, else what was written instead and why (see {@link #inheritParentsCpus}). */
    private String restoreFile(String path, String original) {
        try {
            host.write(path, original);
            return null;
        } catch (HostIoException ex) {
            if (ex.errno() == Errno.ENOSPC && path.endsWith("/cpuset.cpus") && original.isBlank()) {
                return inheritParentsCpus(path);
            }
            throw ex;
        }
    }

    /**
     * The list {@link #inheritParentsCpus} writes for an entry whose before-image is '': an earlier revert, killed
     * before it could save the journal, wrote it, and this one goes on from there.
     */
    private boolean substitutedBefore(JournalEntry.FileWritten e, String now) {
        return e.path().endsWith("/cpuset.cpus") && e.original().isBlank() && e.format().same(now, parentsCpus(e.path()));
    }

    /**
     * cgroup v2 refuses to set a populated cgroup's cpuset.cpus back to '' (inherit): ENOSPC. Its parent's
     * CPUs are always taken and give its processes every CPU they had; it reads that list instead of ''
     * until the cgroup empties (or its parent's cpuset controller goes, which takes the file away).
     */
    private String inheritParentsCpus(String path) {
        String cpus = parentsCpus(path);
        host.write(path, cpus);
        return "set to its parent's CPUs " + cpus + " instead of '': the kernel does not let a cgroup with processes go"
                + " back to '', and the parent's list gives them every CPU they had";
    }

    /** The effective CPUs of the parent of the cgroup whose cpuset.cpus is {@code path} (the online CPUs at the top). */
    private String parentsCpus(String path) {
        String dir = path.substring(0, path.lastIndexOf('/'));
        String parent = dir.substring(0, dir.lastIndexOf('/'));
        String cpus = host.read(parent + "/cpuset.cpus.effective").orElse("").strip();
        return cpus.isEmpty() ? host.readRequired("/sys/devices/system/cpu/online").strip() : cpus;
    }

    private Undo undoUnitProperty(JournalEntry.UnitPropertySet e, boolean force) {
        Systemd systemd = systemd();
        String now = systemd.property(e.unit(), e.property());
        boolean propertyBack = org.vfioorchestrator.plan.ValueFormat.CPU_LIST.same(now, e.original());
        boolean dropInBack = java.util.Objects.equals(host.read(e.path()).orElse(null), e.dropInBefore());
        if (propertyBack && dropInBack) {
            if (e.dropInBefore() == null) {
                removeEmptyDropInDirectories(e.path()); // a revert that died after removing the drop-in left them
            }
            return new Undo(UndoStatus.ALREADY, "");
        }
        if (!propertyBack && !force && !e.wroteValue(now)) {
            return new Undo(UndoStatus.DRIFT, e.unit() + " " + e.property() + " is now '" + now + "', we set '" + e.expected()
                    + "', before us it was '" + e.original() + "'");
        }
        if (!propertyBack) {
            systemd.setRuntimeProperty(e.unit(), e.property(), e.original());
        }
        restoreDropIn(e.path(), e.dropInBefore());
        return new Undo(UndoStatus.RESTORED, "");
    }

    private Undo undoPin(JournalEntry.ThreadPinned e, boolean force) {
        if (!sameThread(e.pid(), e.tid(), e.startTime())) {
            return new Undo(UndoStatus.GONE, "thread exited");
        }
        CpuSet now = host.threadAffinity(e.tid());
        if (now.equals(CpuSet.parseList(e.original()))) {
            return new Undo(UndoStatus.ALREADY, "");
        }
        if (!force && !e.wroteAffinity(now)) {
            return new Undo(UndoStatus.DRIFT, "now " + now + ", we pinned " + e.expected());
        }
        host.setThreadAffinity(e.tid(), CpuSet.parseList(e.original()));
        return new Undo(UndoStatus.RESTORED, "");
    }
}
