package org.vfioorchestrator.host;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;

/**
 * A captured host tree with the kernel's side effects simulated, so that dry
 * runs and tests see what the real kernel would do: writing a pid to
 * {@code cgroup.procs} moves it, a managed IRQ refuses a new affinity (EIO), a
 * per-CPU kernel thread refuses to move (EINVAL), masks and lists print in the
 * kernel's canonical form, and a thread's affinity lives in its {@code status}.
 */
final class TreeHostFs extends FileTreeHostFs {

    private static final String IRQ_DIR = "/proc/irq/";
    private static final String WORKQUEUES = "/sys/devices/virtual/workqueue/";
    private static final String CPU_DIR = "/sys/devices/system/cpu/";
    private static final String V1_CPUSET = "/sys/fs/cgroup/cpuset";
    private static final String GOVERNOR = "/cpufreq/scaling_governor";
    private static final List<String> CONTROLLER_ORDER =
            List.of("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc");
    /** cgroup.subtree_control lists controllers in the kernel's order. */
    private static final Comparator<String> IN_CONTROLLER_ORDER = new Comparator<>() {
        @Override
        public int compare(String a, String b) {
            return Integer.compare(CONTROLLER_ORDER.indexOf(a), CONTROLLER_ORDER.indexOf(b));
        }
    };

    /**
     * The tree's scratch directory, at its root: writes are made here whole and renamed into place, a cgroup
     * is built here and renamed into place or out of it, and a call that changes several files leaves a note
     * here while it runs. A process killed meanwhile leaves its files here, never a torn one in the tree:
     * the kernel never shows half a value or half a cgroup either.
     */
    static final String SCRATCH = "/.tree-writes";
    /**
     * What the kernel remembers and shows in no file: the affinity each thread asked for while its cpuset grants
     * less, one file per thread id holding the CPU list. In the scratch directory: the tree's files are the host's.
     */
    private static final String REQUESTED_AFFINITY = SCRATCH + "/requested-affinity";
    /** This process, from /proc/self: ProcessHandle would start a thread pool a hook call has no use for. */
    private static final long PID = selfPid();
    private final AtomicLong scratchNames = new AtomicLong();
    /** The scratch directory once it exists and is checked to be inside the tree. */
    private volatile Path scratchDir;
    /** Finishing the calls of killed processes: children of a cgroup get only the cpuset files they lack. */
    private boolean finishing;

    TreeHostFs(Path root) {
        super(root);
        finishCallsOfKilledProcesses();
    }

    /**
     * One kernel call that changes several files (an IRQ's two views, a cgroup's effective CPUs, a task's
     * cgroups, a thread's two status files) or one systemd call: a note of it, {@code call} (a verb and its
     * arguments, one a line), lies in the scratch directory while it runs. A process killed meanwhile leaves
     * the note, and the next TreeHostFs on the tree finishes the call, as the kernel (or the systemd daemon)
     * would have: nobody sees it half done.
     */
    void asOneCall(List<String> call, Runnable effect) {
        Path note = scratch("call");
        try {
            writeNew(note, (String.join("\n", call) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw toHostIo(SCRATCH, e);
        }
        try {
            effect.run();
        } finally {
            new File(note.toString()).delete();
        }
    }

    /**
     * Finishes the calls processes were killed in, the latest of each first (a systemd call's own kernel
     * writes before the call), and removes what the dead left in the scratch directory. A call that fails
     * now failed for its process too, which then had changed nothing more: it is dropped.
     */
    private void finishCallsOfKilledProcesses() {
        String[] names = new File(resolveString(SCRATCH)).list();
        if (names == null) {
            return; // no scratch directory: nothing was ever written to this tree by us
        }
        Path dir = Path.of(file(SCRATCH));
        List<String> dead = new ArrayList<>();
        for (String name : names) {
            String[] part = name.split("-");
            long pid = part.length == 3 && KernelText.numberAfter("", part[2]) >= 0 ? KernelText.numberAfter("", part[1]) : -1;
            if (pid > 0 && pid != PID && !new File("/proc/" + pid).exists()) {
                dead.add(name);
            }
        }
        dead.sort(Comparator.comparingLong((String n) -> Long.parseLong(n.split("-")[2])).reversed());
        finishing = true;
        try {
            for (String name : dead) {
                if (name.startsWith("call-")) {
                    finishCall(dir.resolve(name));
                }
            }
        } finally {
            finishing = false;
        }
        for (String name : dead) {
            deleteTree(dir.resolve(name));
        }
    }

    private void finishCall(Path note) {
        String text;
        try {
            text = Files.readString(note);
        } catch (IOException e) {
            return;
        }
        if (!text.endsWith("\n")) {
            return; // killed while writing the note: the call had not begun
        }
        List<String> a = List.of(text.substring(0, text.length() - 1).split("\n", -1));
        try {
            switch (a.get(0)) {
                case "write" -> write(a.get(1), a.get(2));
                case "affinity" -> setThreadAffinity(Integer.parseInt(a.get(1)), CpuSet.parseList(a.get(2)));
                case "set-property" -> new SimulatedSystemd(this).setRuntimeProperty(a.get(1), a.get(2), a.get(3));
                case "daemon-reload" -> new SimulatedSystemd(this).reload();
                default -> { }
            }
        } catch (HostIoException e) {
            // refused before it changed anything, as it was for the killed process
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            // no note of ours (we write every one whole): someone else's file, ignored
        }
    }

    private static long selfPid() {
        try {
            return Long.parseLong(Files.readSymbolicLink(Path.of("/proc/self")).toString());
        } catch (IOException | NumberFormatException e) {
            return ProcessHandle.current().pid();
        }
    }

    private static void deleteTree(Path p) {
        File[] children = p.toFile().listFiles();
        if (children != null) {
            for (File c : children) {
                deleteTree(c.toPath());
            }
        }
        deleteQuietly(p);
    }

    /** A new name in the scratch directory; a name a killed process left behind is simply overwritten. */
    private Path scratch(String kind) {
        return scratchDir().resolve(kind + "-" + PID + "-" + scratchNames.incrementAndGet());
    }

    private Path scratchDir() {
        if (scratchDir == null) {
            new File(resolve(SCRATCH).toString()).mkdir(); // java.io: no exception when it exists
            scratchDir = Path.of(file(SCRATCH)); // not a link out of the tree
        }
        return scratchDir;
    }

    /**
     * Whole or not at all, as sysfs takes a value: written to a scratch file, its mode set to the file's, then
     * renamed over the file, so a process killed mid-write leaves the old value, never an empty or half one.
     */
    @Override
    protected void writeBytes(String path, byte[] bytes) {
        Path target = Path.of(file(path));
        File file = target.toFile();
        if (!file.exists()) {
            throw new HostIoException(path, Errno.ENOENT, Errno.ENOENT.text());
        }
        if (file.isDirectory()) {
            throw new HostIoException(path, Errno.OTHER, "Is a directory");
        }
        Path tmp = scratch("write");
        try {
            writeNew(tmp, bytes);
            Files.setAttribute(tmp, "unix:mode", Files.getAttribute(target, "unix:mode"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw toHostIo(path, e);
        }
    }

    private static void writeNew(Path file, byte[] bytes) throws IOException {
        try (FileOutputStream out = new FileOutputStream(file.toString())) {
            out.write(bytes);
        }
    }

    @Override
    protected boolean durable() {
        return false;
    }

    @Override
    public boolean isLive() {
        return false;
    }

    @Override
    public Optional<Systemd> systemd() {
        return isDirectory("/run/systemd/system") ? Optional.of(new SimulatedSystemd(this)) : Optional.empty();
    }

    @Override
    public void write(String path, String value) {
        String v = value.strip();
        if (!exists(path)) {
            throw new HostIoException(path, Errno.ENOENT, "missing");
        }
        int irq = irqOf(path);
        List<String> call = List.of("write", path, v);
        if (irq >= 0) {
            asOneCall(call, () -> writeIrqAffinity(path, irq, path.endsWith("_list"), v));
        } else if (path.equals("/proc/irq/default_smp_affinity") || isWorkqueueMask(path)) {
            writeSameWidthMask(path, parseMask(path, v));
        } else if (path.startsWith("/sys/fs/cgroup/") && (path.endsWith("/cgroup.procs") || path.endsWith("/tasks"))) {
            cpusetCall(call, () -> moveTask(path, v));
        } else if (path.startsWith("/sys/fs/cgroup/") && path.endsWith("/cgroup.subtree_control")) {
            cpusetCall(call, () -> writeSubtreeControl(path, v));
        } else if (path.startsWith("/sys/fs/cgroup/") && path.endsWith("/cpuset.cpus.partition") && isV2(path)) {
            cpusetCall(call, () -> writePartition(path, v));
        } else if (path.startsWith("/sys/fs/cgroup/") && path.endsWith("/cpuset.cpus") && isV2(path)) {
            // the kernel parses the list, then returns at once when it equals the cgroup's (update_cpumask)
            if (!parseList(path, v).equals(parseList(path, read(path).orElse("").strip()))) {
                cpusetCall(call, () -> writeV2Cpus(path, v));
            }
        } else if (path.startsWith("/sys/fs/cgroup/") && path.endsWith("/cpuset.cpus")) {
            String list = parseList(path, v).toString();
            cpusetCall(call, () -> super.write(path, list));
        } else if (path.startsWith("/sys/fs/cgroup/") && path.endsWith("/cpuset.mems")) {
            super.write(path, parseList(path, v).toString());
        } else {
            if (isGovernor(path)) {
                String offered = read(path.substring(0, path.lastIndexOf('/')) + "/scaling_available_governors").orElse("");
                if (!KernelText.words(offered).contains(v)) {
                    throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
                }
            }
            super.write(path, v);
        }
    }

    /** N for /proc/irq/N/smp_affinity and /proc/irq/N/smp_affinity_list, else -1. */
    private static int irqOf(String path) {
        int slash = path.indexOf('/', IRQ_DIR.length());
        if (!path.startsWith(IRQ_DIR) || slash < 0) {
            return -1;
        }
        String file = path.substring(slash + 1);
        return file.equals("smp_affinity") || file.equals("smp_affinity_list")
                ? KernelText.numberAfter("", path.substring(IRQ_DIR.length(), slash)) : -1;
    }

    /** The workqueues' cpumask, or one workqueue's: WORKQUEUES/cpumask, WORKQUEUES/NAME/cpumask. */
    private static boolean isWorkqueueMask(String path) {
        if (!path.startsWith(WORKQUEUES) || !path.endsWith("cpumask")) {
            return false;
        }
        String rest = path.substring(WORKQUEUES.length());
        int slash = rest.indexOf('/');
        return rest.equals("cpumask") || (slash > 0 && slash == rest.length() - "/cpumask".length());
    }

    /** CPU_DIR/cpuN/cpufreq/scaling_governor. */
    private static boolean isGovernor(String path) {
        return path.startsWith(CPU_DIR) && path.endsWith(GOVERNOR) && path.length() > CPU_DIR.length() + GOVERNOR.length()
                && KernelText.numberAfter("cpu", path.substring(CPU_DIR.length(), path.length() - GOVERNOR.length())) >= 0;
    }

    private CpuSet parseList(String path, String v) {
        try {
            return CpuSet.parseList(v);
        } catch (CpuSetFormatException e) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
    }

    private CpuSet parseMask(String path, String v) {
        try {
            CpuSet s = CpuSet.parseMask(v);
            if (s.isEmpty()) {
                throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
            }
            return s;
        } catch (CpuSetFormatException e) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
    }

    /**
     * cgroup v2's cpuset.cpus, as the lab's kernels (6.1, 6.12) do it: a populated cgroup (tasks in it or
     * below) cannot go back to '' (inherit): ENOSPC; the parent's list works, and '' once it is empty.
     * The cgroup's and its descendants' cpuset.cpus.effective follow.
     */
    private void writeV2Cpus(String path, String v) {
        CpuSet cpus = parseList(path, v);
        String dir = path.substring(0, path.lastIndexOf('/'));
        boolean wasSet = !read(path).orElse("").isBlank();
        if (siblingPartitionCpus(dir).intersects(cpus)) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        if (cpus.isEmpty() && wasSet && populated(dir)) {
            throw new HostIoException(path, Errno.ENOSPC, Errno.ENOSPC.text());
        }
        super.write(path, cpus.toString());
        updateEffectiveCpus(dir);
    }

    /**
     * cgroup v2's cpuset.cpus.partition, as Linux checks it when it is written: a partition's parent is the top
     * or a valid partition, its CPUs are set, exclusive among its siblings, and leave the parent some. From 6.1 a
     * failed check is kept ("isolated invalid (reason)") even once the cause is gone. Writing the same type again
     * looks again on 6.12; on 6.1 it does not, only 'member' and then the type does (the lab saw all of it; a tree
     * that does not say its kernel is taken for 6.1, and versions between the two are not measured). A valid
     * partition's CPUs leave its parent's effective CPUs (the top's too), and so its siblings'. Older kernels
     * refuse instead ({@link #refusedBefore61}).
     */
    private void writePartition(String path, String v) {
        if (!List.of("member", "root", "isolated").contains(v)) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        String dir = path.substring(0, path.lastIndexOf('/'));
        String parent = dir.substring(0, dir.lastIndexOf('/'));
        String state = v;
        String now = read(path).orElse("member").strip();
        if (now.startsWith(v + " invalid") && !kernelAtLeast(6, 12)) {
            return;
        }
        String problem = v.equals("member") ? null : partitionProblem(dir, parent);
        if (!kernelAtLeast(6, 1)) {
            if (now.equals(v)) {
                return;
            }
            refusedBefore61(path, dir, v, problem);
        } else if (problem != null) {
            state = v + " invalid (" + problem + ")";
        }
        super.write(path, state);
        updateEffectiveCpus(parent);
    }

    /** Why {@code dir} cannot be a partition now (the kernel's words), or null when it can. */
    private String partitionProblem(String dir, String parent) {
        CpuSet cpus = CpuSet.parseList(read(dir + "/cpuset.cpus").orElse("").strip());
        if (exists(parent + "/cpuset.cpus.partition") && !validPartition(parent)) {
            return "Parent is not a partition root";
        } else if (cpus.isEmpty()) {
            return "cpuset.cpus is empty";
        } else if (siblingsCpus(dir).intersects(cpus)) {
            return "Cpu list in cpuset.cpus not exclusive";
        } else if (effectiveCpus(parent).difference(cpus).isEmpty()) {
            return "Parent unable to distribute cpu downstream";
        }
        return null;
    }

    /**
     * Before Linux 6.1, which brought 'isolated' and let a partition be made invalid, the kernel refused what it
     * could not make, and nothing changed: any value but member and root (EINVAL), a change while the cgroup has
     * child cgroups with cpusets (EBUSY), a root that fails a check (EINVAL). The file itself came with 5.0.
     */
    private void refusedBefore61(String path, String dir, String v, String problem) {
        if (v.equals("isolated") || problem != null) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        if (KernelText.words(read(dir + "/cgroup.subtree_control").orElse("")).contains("cpuset") && !childCgroups(dir).isEmpty()) {
            throw new HostIoException(path, Errno.EBUSY, Errno.EBUSY.text());
        }
    }

    /** A cgroup whose cpuset.cpus.partition is a valid root or isolated partition. */
    private boolean validPartition(String dir) {
        String state = read(dir + "/cpuset.cpus.partition").orElse("member").strip();
        return state.equals("root") || state.equals("isolated");
    }

    /** The CPUs {@code dir}'s siblings ask for (their cpuset.cpus; '' asks for none). */
    private CpuSet siblingsCpus(String dir) {
        return siblingsCpus(dir, false);
    }

    /** The CPUs of {@code dir}'s siblings that are valid partitions: no other sibling may ask for them. */
    private CpuSet siblingPartitionCpus(String dir) {
        return siblingsCpus(dir, true);
    }

    /** The CPUs of {@code dir}'s children that are valid partitions: taken out of its effective CPUs. */
    private CpuSet childPartitionCpus(String dir) {
        return childrenCpus(dir, null, true);
    }

    private CpuSet siblingsCpus(String dir, boolean onlyValidPartitions) {
        return childrenCpus(dir.substring(0, dir.lastIndexOf('/')), dir, onlyValidPartitions);
    }

    /** The cpuset.cpus of {@code parent}'s children but {@code except} (null for none), or of its valid partitions. */
    private CpuSet childrenCpus(String parent, String except, boolean onlyValidPartitions) {
        CpuSet all = CpuSet.empty();
        for (String child : childCgroups(parent)) {
            if (!child.equals(except) && (!onlyValidPartitions || validPartition(child))) {
                all = all.union(CpuSet.parseList(read(child + "/cpuset.cpus").orElse("").strip()));
            }
        }
        return all;
    }

    /** The lab's 6.1, which a tree that does not say its kernel is taken for. */
    private static final KernelRelease UNSAID = new KernelRelease("6.1", 6, 1);

    /** Whether the tree's kernel (/proc/sys/kernel/osrelease, "6.12.95+deb12-amd64") is this version or later. */
    private boolean kernelAtLeast(int major, int minor) {
        return KernelRelease.of(this).orElse(UNSAID).atLeast(major, minor);
    }

    /** cpuset.cpus.partition came with Linux 5.0: a cgroup gets it with its other cpuset files from then on. */
    private boolean hasPartitionFiles() {
        return kernelAtLeast(5, 0);
    }

    /** A v2 cgroup: its hierarchy is the unified one (cgroup.controllers, no tasks file). */
    private boolean isV2(String path) {
        String dir = path.substring(0, path.lastIndexOf('/'));
        return exists(dir + "/cgroup.controllers") && !exists(dir + "/tasks");
    }

    /** Any task in the cgroup or below it, as the kernel's cgroup_is_populated() counts. */
    private boolean populated(String dir) {
        if (!read(dir + "/cgroup.procs").orElse("").isBlank()) {
            return true;
        }
        for (String child : childCgroups(dir)) {
            if (populated(child)) {
                return true;
            }
        }
        return false;
    }

    /**
     * cpuset.cpus.effective of {@code dir} and below: its own cpuset.cpus within the parent's effective
     * CPUs, or all of the parent's where it asks for none (or none of them remain), less what its valid child
     * partitions took. A valid partition takes its CPUs from what the parent had before them.
     */
    private void updateEffectiveCpus(String dir) {
        String file = dir + "/cpuset.cpus.effective";
        if (!exists(file)) {
            return;
        }
        String parent = dir.substring(0, dir.lastIndexOf('/'));
        CpuSet inherited = validPartition(dir) ? effectiveCpus(parent).union(childPartitionCpus(parent)) : effectiveCpus(parent);
        CpuSet own = CpuSet.parseList(read(dir + "/cpuset.cpus").orElse("").strip());
        CpuSet effective = own.isEmpty() || !own.intersects(inherited) ? inherited : own.intersection(inherited);
        super.write(file, effective.difference(childPartitionCpus(dir)).toString());
        for (String child : childCgroups(dir)) {
            updateEffectiveCpus(child);
        }
    }

    /** A cgroup's effective CPUs; the hierarchy's top (no parent cpuset files) has every online CPU. */
    private CpuSet effectiveCpus(String dir) {
        Optional<String> effective = read(dir + "/cpuset.cpus.effective");
        if (effective.isPresent() && !effective.get().isBlank()) {
            return CpuSet.parseList(effective.get().strip());
        }
        return onlineOr(CpuSet.empty());
    }

    private void writeIrqAffinity(String path, int irq, boolean list, String v) {
        String debug = read("/sys/kernel/debug/irq/irqs/" + irq).orElse("");
        if (debug.contains("IRQD_AFFINITY_MANAGED")) {
            throw new HostIoException(path, Errno.EIO, Errno.EIO.text());
        }
        CpuSet cpus = list ? parseList(path, v) : parseMask(path, v);
        if (!cpus.intersects(onlineOr(cpus))) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        String dir = "/proc/irq/" + irq;
        // both views of one kernel value; a capture may hold only the one the tool reads
        if (exists(dir + "/smp_affinity")) {
            writeSameWidthMask(dir + "/smp_affinity", cpus);
        }
        if (exists(dir + "/smp_affinity_list")) {
            super.write(dir + "/smp_affinity_list", cpus.toString());
        }
    }

    /** The kernel prints a mask as wide as nr_cpu_ids; keep the width the capture shows. */
    private void writeSameWidthMask(String path, CpuSet cpus) {
        String old = read(path).orElse("").strip();
        int width = old.isEmpty() ? 0 : old.replace(",", "").length() * 4;
        super.write(path, cpus.toMask(Math.max(width, 1)));
    }

    private void writeSubtreeControl(String path, String v) {
        TreeSet<String> enabled = new TreeSet<>(IN_CONTROLLER_ORDER);
        enabled.addAll(KernelText.words(read(path).orElse("")));
        List<String> tokens = KernelText.words(v);
        if (tokens.isEmpty()) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        for (String token : tokens) {
            if (token.length() < 2 || (token.charAt(0) != '+' && token.charAt(0) != '-')
                    || !CONTROLLER_ORDER.contains(token.substring(1))) {
                throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
            }
            if (token.charAt(0) == '+') {
                enabled.add(token.substring(1));
            } else {
                enabled.remove(token.substring(1));
            }
        }
        boolean hadCpuset = read(path).orElse("").contains("cpuset");
        super.write(path, String.join(" ", enabled));
        if (hadCpuset != enabled.contains("cpuset") || finishing) {
            String dir = path.substring(0, path.lastIndexOf('/'));
            cpusetFilesInChildren(dir, enabled.contains("cpuset"));
            if (enabled.contains("cpuset")) {
                for (String child : childCgroups(dir)) {
                    updateEffectiveCpus(child);
                }
            }
        }
    }

    /** Enabling cpuset in a cgroup's subtree_control gives its children cpuset files; disabling takes them away. */
    private void cpusetFilesInChildren(String dir, boolean present) {
        List<String> files = new ArrayList<>(List.of("cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective", "cpuset.mems.effective"));
        if (!present || hasPartitionFiles()) {
            files.add("cpuset.cpus.partition");
        }
        for (String child : childCgroups(dir)) {
            for (String f : files) {
                if (present) {
                    if (!(finishing && exists(child + "/" + f))) {
                        createWhole(child + "/" + f, f.equals("cpuset.cpus.partition") ? "member\n" : "\n");
                    }
                } else {
                    try {
                        Files.deleteIfExists(entry(child + "/" + f));
                    } catch (IOException e) {
                        throw toHostIo(child, e);
                    }
                }
            }
        }
    }

    // ---- cgroups -------------------------------------------------------------------------

    /** Moves a process (cgroup.procs) or a thread (tasks) into the cgroup that holds {@code path}. */
    private void moveTask(String path, String v) {
        int pid;
        try {
            pid = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        String stat = read("/proc/" + pid + "/stat").orElse(null);
        if (stat == null) {
            throw new HostIoException(path, Errno.ESRCH, Errno.ESRCH.text());
        }
        String target = path.substring(0, path.lastIndexOf('/'));
        String hierarchy = hierarchyRoot(target);
        if (!target.equals(hierarchy) && ProcStat.parse(stat).perCpuKernelThread()) {
            throw new HostIoException(path, Errno.EINVAL, Errno.EINVAL.text());
        }
        List<Integer> threads = new ArrayList<>();
        boolean wholeProcess = path.endsWith("/cgroup.procs");
        for (String t : list("/proc/" + pid + "/task")) {
            if (wholeProcess || Integer.parseInt(t) == pid) {
                threads.add(Integer.parseInt(t));
            }
        }
        if (threads.isEmpty()) {
            threads.add(pid);
        }
        for (String cg : cgroupsUnder(hierarchy)) {
            removeIds(cg + "/cgroup.procs", List.of(pid));
            removeIds(cg + "/tasks", threads);
        }
        addIds(target + "/cgroup.procs", List.of(pid));
        addIds(target + "/tasks", threads);
    }

    private String hierarchyRoot(String cgroup) {
        String dir = cgroup;
        while (true) {
            String parent = dir.substring(0, dir.lastIndexOf('/'));
            if (parent.isEmpty() || !exists(parent + "/cgroup.procs")) {
                return dir;
            }
            dir = parent;
        }
    }

    /** {@code dir} and every cgroup below it, parents before their children. */
    List<String> cgroupsUnder(String dir) {
        List<String> out = new ArrayList<>();
        out.add(dir);
        for (String child : childCgroups(dir)) {
            out.addAll(cgroupsUnder(child));
        }
        return out;
    }

    /**
     * The cgroups directly below {@code dir}, sorted: one confined listing, then each entry looked at without
     * following links (cgroupfs has none), rather than confining every entry of a directory full of files.
     */
    private List<String> childCgroups(String dir) {
        String real = file(dir);
        String[] names = new File(real).list();
        if (names == null) {
            return List.of();
        }
        Arrays.sort(names);
        List<String> out = new ArrayList<>();
        for (String name : names) {
            Path child = Path.of(real, name);
            if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS) && Files.exists(child.resolve("cgroup.procs"), LinkOption.NOFOLLOW_LINKS)) {
                out.add(dir + "/" + name);
            }
        }
        return out;
    }

    private void removeIds(String file, List<Integer> ids) {
        Optional<String> content = read(file);
        if (content.isEmpty()) {
            return;
        }
        TreeSet<Integer> set = ids(content.get());
        if (set.removeAll(ids)) {
            writeIds(file, set);
        }
    }

    private void addIds(String file, List<Integer> ids) {
        if (!exists(file)) {
            return;
        }
        TreeSet<Integer> set = ids(read(file).orElse(""));
        set.addAll(ids);
        writeIds(file, set);
    }

    private static TreeSet<Integer> ids(String content) {
        TreeSet<Integer> set = new TreeSet<>();
        for (String line : content.split("\n")) {
            if (!line.isBlank()) {
                set.add(Integer.parseInt(line.strip()));
            }
        }
        return set;
    }

    /** The online CPUs, or {@code fallback} where the tree does not say. */
    private CpuSet onlineOr(CpuSet fallback) {
        Optional<String> online = read("/sys/devices/system/cpu/online");
        return online.isPresent() ? CpuSet.parseList(online.get()) : fallback;
    }

    private boolean hasSubdirectory(String path) {
        for (String name : list(path)) {
            if (isDirectory(path + "/" + name)) {
                return true;
            }
        }
        return false;
    }

    private void writeIds(String file, TreeSet<Integer> ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(id).append('\n');
        }
        writeBytes(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A new cgroup directory comes with the control files the kernel would show. */
    @Override
    public void mkdir(String path) {
        if (!path.startsWith("/sys/fs/cgroup/")) {
            super.mkdir(path);
            return;
        }
        Path target = entry(path);
        if (exists(path)) {
            throw new HostIoException(path, Errno.EEXIST, Errno.EEXIST.text()); // a rename would replace an empty one
        }
        String parent = path.substring(0, path.lastIndexOf('/'));
        boolean v1 = exists(parent + "/tasks");
        List<String> files = new ArrayList<>(List.of("cgroup.procs"));
        if (v1) {
            files.add("tasks");
            if (exists(parent + "/cpuset.cpus")) {
                files.addAll(List.of("cpuset.cpus", "cpuset.mems"));
            }
        } else {
            files.addAll(List.of("cgroup.subtree_control", "cgroup.controllers"));
            if (read(parent + "/cgroup.subtree_control").orElse("").contains("cpuset")) {
                files.addAll(List.of("cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective"));
                if (hasPartitionFiles()) {
                    files.add("cpuset.cpus.partition");
                }
            }
        }
        // built in the scratch directory and renamed into place: the cgroup appears with all its files at once
        Path staging = scratch("cgroup");
        try {
            Files.createDirectory(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String f : files) {
                String content = switch (f) {
                    case "cgroup.procs", "tasks" -> "";
                    case "cgroup.controllers" -> read(parent + "/cgroup.subtree_control").orElse("\n");
                    case "cpuset.cpus.partition" -> "member\n";
                    // it asks for none yet: the parent's, which sibling partitions' CPUs have left
                    case "cpuset.cpus.effective" -> effectiveCpus(parent) + "\n";
                    default -> "\n";
                };
                writeNew(staging.resolve(f), content.getBytes(StandardCharsets.UTF_8));
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    /** A file the kernel (or systemd, atomically too) makes: there whole or not at all, replacing any old one. */
    void createWhole(String path, String content) {
        Path tmp = scratch("write");
        try {
            writeNew(tmp, content.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, entry(path), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw toHostIo(path, e);
        }
    }

    /** Removing a cgroup takes its control files along, but only when no task is left in it. */
    @Override
    public void rmdir(String path) {
        if (!path.startsWith("/sys/fs/cgroup/") || !exists(path + "/cgroup.procs")) {
            super.rmdir(path);
            return;
        }
        boolean busy = !read(path + "/cgroup.procs").orElse("").isBlank()
                || !read(path + "/tasks").orElse("").isBlank()
                || hasSubdirectory(path);
        if (busy) {
            throw new HostIoException(path, Errno.EBUSY, Errno.EBUSY.text());
        }
        // renamed out of the tree first: the cgroup goes with all its files at once
        Path removed = scratch("removed");
        try {
            Files.move(entry(path), removed, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(removed)) {
            for (Path f : files) {
                Files.delete(f);
            }
            Files.delete(removed);
        } catch (IOException e) {
            // out of the tree already; what is left in the scratch directory is harmless
        }
    }

    // ---- threads -------------------------------------------------------------------------

    @Override
    public CpuSet threadAffinity(int tid) {
        String dir = threadDir(tid);
        Optional<String> status = read(dir + "/status");
        if (status.isEmpty()) {
            throw new HostIoException(dir, Errno.ESRCH, Errno.ESRCH.text());
        }
        return CpuSet.parseList(KernelText.statusField(status.get(), "Cpus_allowed_list").orElse(""));
    }

    @Override
    public void setThreadAffinity(int tid, CpuSet cpus) {
        asOneCall(List.of("affinity", Integer.toString(tid), cpus.toString()), () -> setAffinityInStatus(tid, cpus));
    }

    private void setAffinityInStatus(int tid, CpuSet cpus) {
        String dir = threadDir(tid);
        String stat = read(dir + "/stat").orElse("");
        if (!stat.isEmpty() && ProcStat.parse(stat).perCpuKernelThread()) {
            throw new HostIoException(dir, Errno.EINVAL, "sched_setaffinity(" + cpus + ") failed");
        }
        // the kernel sets the request within the CPUs the thread's cpuset allows, and refuses it outside them
        CpuSet pinned = cpusetCpusAllowed(dir, tid).map(cpus::intersection).orElse(cpus);
        if (!pinned.intersects(onlineOr(pinned))) {
            throw new HostIoException(dir, Errno.EINVAL, "sched_setaffinity(" + cpus + ") failed");
        }
        writeAffinity(dir, tid, pinned);
        rememberRequest(tid, cpus, pinned);
    }

    /** A thread's affinity as its status files (/proc/PID/task/TID and the hidden /proc/TID) show it. */
    private void writeAffinity(String dir, int tid, CpuSet cpus) {
        List<String> statusFiles = new ArrayList<>(List.of(dir + "/status"));
        String hidden = "/proc/" + tid; // a directory test first: exists() on a missing path costs NIO an exception
        if (!dir.equals(hidden) && isDirectory(hidden) && exists(hidden + "/status")) {
            statusFiles.add(hidden + "/status");
        }
        for (String file : statusFiles) {
            String status = read(file).orElseThrow();
            String oldMask = KernelText.statusField(status, "Cpus_allowed").orElse("");
            int width = oldMask.replace(",", "").length() * 4;
            String updated = replaceField(replaceField(status, "Cpus_allowed", cpus.toMask(width)),
                    "Cpus_allowed_list", cpus.toString());
            writeBytes(file, updated.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A call that may change which CPUs a cpuset gives its threads: the threads that asked for more follow. */
    private void cpusetCall(List<String> call, Runnable effect) {
        asOneCall(call, () -> {
            effect.run();
            threadsFollowTheirCpusets();
        });
    }

    /** The affinity {@code tid} asked for, remembered while its cpuset grants less. */
    private void rememberRequest(int tid, CpuSet requested, CpuSet granted) {
        String file = REQUESTED_AFFINITY + "/" + tid;
        if (requested.equals(granted)) {
            if (isDirectory(REQUESTED_AFFINITY)) {
                deleteQuietly(entry(file));
            }
            return;
        }
        if (!isDirectory(REQUESTED_AFFINITY)) {
            scratchDir().resolve(REQUESTED_AFFINITY.substring(SCRATCH.length() + 1)).toFile().mkdir();
        }
        createWhole(file, requested + "\n");
    }

    /**
     * After a cpuset's CPUs or a thread's cgroup changed: each thread that asked for more than its cpuset gave it
     * gets what it asked for within its cpuset's CPUs now, or all of them where they share none (Linux 6.2+ keeps
     * the request, user_cpus_ptr, for this). A thread that went is forgotten.
     */
    private void threadsFollowTheirCpusets() {
        String[] tids = new File(resolveString(REQUESTED_AFFINITY)).list();
        if (tids == null) {
            return;
        }
        for (String name : tids) {
            int tid = KernelText.numberAfter("", name);
            String file = REQUESTED_AFFINITY + "/" + name;
            Optional<String> asked = read(file);
            String dir;
            try {
                dir = tid < 0 || asked.isEmpty() ? null : threadDir(tid);
            } catch (HostIoException gone) {
                dir = null;
            }
            if (dir == null) {
                deleteQuietly(entry(file));
                continue;
            }
            CpuSet requested = CpuSet.parseList(asked.get().strip());
            Optional<CpuSet> allowed = cpusetCpusAllowed(dir, tid);
            if (allowed.isEmpty()) {
                continue;
            }
            CpuSet granted = requested.intersects(allowed.get()) ? requested.intersection(allowed.get()) : allowed.get();
            if (!granted.equals(threadAffinity(tid))) {
                writeAffinity(dir, tid, granted);
            }
            rememberRequest(tid, requested, granted);
        }
    }

    /**
     * The CPUs a thread's cpuset lets it run on, as the kernel's cpuset_cpus_allowed() gives them: the effective
     * CPUs of its cgroup in the cpuset hierarchy (v1 at {@value #V1_CPUSET}, else v2 at the top), or of the nearest
     * ancestor with online CPUs among them, within the online CPUs. Empty where the tree holds the thread in none.
     *
     * @param taskDir the thread's /proc/PID/task/TID (or /proc/TID)
     */
    private Optional<CpuSet> cpusetCpusAllowed(String taskDir, int tid) {
        boolean v1 = exists(V1_CPUSET + "/tasks");
        String top = v1 ? V1_CPUSET : "/sys/fs/cgroup";
        if (!v1 && !KernelText.words(read(top + "/cgroup.controllers").orElse("")).contains("cpuset")) {
            return Optional.empty();
        }
        // v1 lists a cpuset's threads in tasks; v2 a cgroup's processes in cgroup.procs, and a thread is in its process's
        int task = taskDir.indexOf("/task/");
        int id = v1 || task < 0 ? tid : KernelText.numberAfter("/proc/", taskDir.substring(0, task));
        String members = v1 ? "/tasks" : "/cgroup.procs";
        String cgroup = null;
        for (String cg : cgroupsUnder(top)) {
            if (ids(read(cg + members).orElse("")).contains(id)) {
                cgroup = cg;
                break;
            }
        }
        if (cgroup == null) {
            return Optional.empty();
        }
        CpuSet online = onlineOr(CpuSet.empty());
        // a v1 cpuset's effective CPUs are its cpuset.cpus (within its parent's, as v1 demands of every write)
        String effective = v1 ? "/cpuset.cpus" : "/cpuset.cpus.effective";
        for (String cg = cgroup; !cg.equals(top); cg = cg.substring(0, cg.lastIndexOf('/'))) {
            String text = read(cg + effective).orElse("").strip();
            if (!text.isEmpty() && CpuSet.parseList(text).intersects(online)) {
                return Optional.of(CpuSet.parseList(text).intersection(online));
            }
        }
        return Optional.of(online);
    }

    /**
     * Where each thread lives (tid -> /proc/PID/task/TID): the task directories listed so far (the
     * caller that asks for a thread's affinity has listed its process's threads), else one scan of
     * /proc; rescanned when a thread is not (or no longer) where it says. Looking through every
     * process for each thread cost O(processes) per pin, and a failed stat (an exception) per process.
     * Concurrent: the measurement's probe threads pin themselves at once.
     */
    private volatile Map<Integer, String> threadDirs = new ConcurrentHashMap<>();

    @Override
    public List<String> list(String dir) {
        List<String> names = super.list(dir);
        if (dir.startsWith("/proc/") && dir.endsWith("/task")
                && KernelText.isNumber(dir.substring("/proc/".length(), dir.length() - "/task".length()))) {
            for (String name : names) {
                int tid = KernelText.numberAfter("", name);
                if (tid >= 0) {
                    threadDirs.put(tid, dir + "/" + name);
                }
            }
        }
        return names;
    }

    /** Finds /proc/PID/task/TID for a thread id, as the kernel's hidden /proc/TID would. */
    private String threadDir(int tid) {
        // directory tests (java.io, no exception for a missing path), and where it was listed first
        String known = threadDirs.get(tid);
        if (known != null && isDirectory(known)) {
            return known;
        }
        String leader = "/proc/" + tid + "/task/" + tid;
        if (isDirectory(leader)) {
            return leader;
        }
        threadDirs = indexThreads();
        known = threadDirs.get(tid);
        if (known != null) {
            return known;
        }
        if (exists("/proc/" + tid + "/status")) {
            return "/proc/" + tid;
        }
        throw new HostIoException("/proc/" + tid, Errno.ESRCH, Errno.ESRCH.text());
    }

    /** tid -> its task directory, the first process (in /proc's sorted order) that lists it. */
    private Map<Integer, String> indexThreads() {
        Map<Integer, String> index = new ConcurrentHashMap<>();
        for (String pid : list("/proc")) {
            if (pid.isEmpty() || !Character.isDigit(pid.charAt(0))) {
                continue;
            }
            for (String t : list("/proc/" + pid + "/task")) {
                try {
                    index.putIfAbsent(Integer.parseInt(t), "/proc/" + pid + "/task/" + t);
                } catch (NumberFormatException e) {
                    // not a thread
                }
            }
        }
        return index;
    }

    /** The status text with the first line "KEY:..." replaced by "KEY:\tVALUE"; unchanged without one. */
    private static String replaceField(String status, String key, String value) {
        int start = status.startsWith(key + ":") ? 0 : status.indexOf("\n" + key + ":") + 1;
        if (start == 0 && !status.startsWith(key + ":")) {
            return status;
        }
        int end = status.indexOf('\n', start);
        return status.substring(0, start) + key + ":\t" + value + (end < 0 ? "" : status.substring(end));
    }
}
