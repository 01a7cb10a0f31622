package org.vfioorchestrator.lab.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What the lab checks on a real kernel with systemd, each scenario asserting real kernel state
 * (read by {@link KernelState} and {@link HostTasks}, never through the tool). The guest has 4 CPUs
 * (one socket, two cores of two threads): the host keeps core 0 (CPUs 0-1), the VM gets core 1.
 * A stand-in VM process named like QEMU runs in machine.slice, where libvirt puts QEMU.
 */
public final class Scenarios {
    static final CpuSet HOST = CpuSet.parseList("0-1");
    static final CpuSet VM = CpuSet.parseList("2-3");
    static final String PROFILE = """
            host_cpus: 0-1
            vcpus:
              pin: [2, 3]
            emulator_cpus: 0-1
            iothread_cpus: 0-1
            governor: leave
            cstates:
              method: leave
            """;
    /** The lab's profile with machine.slice made an isolated partition: every VM thread on the VM's CPUs. */
    static final String PARTITION_PROFILE = PROFILE.replace("emulator_cpus: 0-1", "emulator_cpus: 2")
            .replace("iothread_cpus: 0-1", "iothread_cpus: 3") + "partition: isolated\n";
    static final int KILL_POINTS = 20;
    /** What a profile keeps with every CPU by default where cgroups are written directly (cgroups.keep). */
    static final Set<String> KEPT = Set.of("libvirtd", "virtqemud");
    /** The scenario whose real results the host compares with the simulated kernel's (see lab.LabTest). */
    public static final String DIFFERENTIAL = "differential: apply and revert on this kernel, for the simulation to match";
    /** Where it leaves the capture, the profile and the real values, under the output folder. */
    public static final String DIFFERENTIAL_DIR = "differential";
    static final int CYCLES = 20;
    /** The profile's cgroups written directly, as on a host without systemd. */
    static final String CGROUPFS = "cgroupfs written directly (cgroups.mode: v2): revert past the kernel's ENOSPC";

    private final long seed;
    private int fakeVm;

    Scenarios(long seed) {
        this.seed = seed;
    }

    interface Body {
        /** Runs the scenario; returns null when it passed, or why it does not apply here (skipped). */
        String run(List<String> details) throws Exception;
    }

    record Scenario(String name, Body body) {
        String run(List<String> details) throws Exception {
            return body.run(details);
        }
    }

    List<Scenario> all() {
        return List.of(
                new Scenario("kernel: a populated v2 cpuset cannot be cleared", this::clearPopulatedCpuset),
                new Scenario("kernel: a partition needs CPUs no sibling holds", this::partitionExclusivity),
                new Scenario("systemd: a +cpuset written behind its back is gone after daemon-reload", this::systemdDropsCpuset),
                new Scenario("systemd: runtime AllowedCPUs on the host's slices, set and reset", this::systemdAllowedCpus),
                new Scenario("apply confines every host process, revert restores all", this::applyRevert),
                new Scenario(CGROUPFS, this::cgroupfsDirect),
                new Scenario("isolation holds after systemctl daemon-reload", d -> event(d, "daemon-reload")),
                new Scenario("isolation holds after a transient unit starts", d -> event(d, "transient unit")),
                new Scenario("isolation holds after a service restarts", d -> event(d, "service restart")),
                new Scenario("isolation holds after a new login session", d -> event(d, "login session")),
                new Scenario("apply killed at " + KILL_POINTS + " random points, then revert", this::killPoints),
                new Scenario(CYCLES + " apply/revert cycles", this::cycles),
                new Scenario("two VMs, stopped in either order", this::twoVms),
                new Scenario("machine.slice an isolated partition while the VM runs, member after", this::partition),
                new Scenario("a VM started by libvirt through the installed hook", this::libvirtVm),
                new Scenario(DIFFERENTIAL, this::differential));
    }

    /** The guest as the results describe it. */
    static Map<String, Object> facts() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("kernel", Guest.run(10, "uname", "-r").out().strip());
        f.put("cgroup", KernelState.unified() ? "v2" : "v1");
        f.put("cmdline", KernelState.read(Path.of("/proc/cmdline")).orElse(""));
        f.put("cpus", KernelState.read(Path.of("/sys/devices/system/cpu/online")).orElse(""));
        f.put("systemd", Guest.run(10, "systemctl", "--version").out().lines().findFirst().orElse(""));
        f.put("partitions", Files.exists(KernelState.CGROUP.resolve("system.slice/cpuset.cpus.partition"))
                || Files.exists(KernelState.CGROUP.resolve("cpuset.cpus.partition")));
        return f;
    }

    // ---- kernel and systemd facts the simulation must follow ----------------------------------

    private String clearPopulatedCpuset(List<String> details) throws Exception {
        if (!KernelState.unified()) {
            return "cgroup v1: the v2 rule does not apply";
        }
        Path root = KernelState.CGROUP;
        boolean added = enableCpuset(root);
        Path cg = root.resolve("lab-enospc");
        Process sleep = new ProcessBuilder("sleep", "600").start();
        String home = ownCgroup(sleep.pid());
        try {
            Files.createDirectory(cg);
            write(cg.resolve("cgroup.procs"), Long.toString(sleep.pid()));
            write(cg.resolve("cpuset.cpus"), "0-1");
            String populated = tryWrite(cg.resolve("cpuset.cpus"), "");
            details.add("'' into a populated cgroup's cpuset.cpus (0-1): " + populated);
            String parentList = tryWrite(cg.resolve("cpuset.cpus"), KernelState.read(root.resolve("cpuset.cpus.effective")).orElse(""));
            details.add("the parent's CPUs into it: " + parentList);
            write(root.resolve(home.substring(1)).resolve("cgroup.procs"), Long.toString(sleep.pid()));
            String empty = tryWrite(cg.resolve("cpuset.cpus"), "");
            details.add("'' once it is empty: " + empty + ", reads back '" + KernelState.read(cg.resolve("cpuset.cpus")).orElse("?") + "'");
            check(populated.contains("No space left on device"), "expected ENOSPC clearing a populated cpuset, got: " + populated);
            check(parentList.equals("ok"), "expected the parent's CPUs to be accepted, got: " + parentList);
            check(empty.equals("ok"), "expected '' to be accepted on an empty cgroup, got: " + empty);
            return null;
        } finally {
            sleep.destroyForcibly().waitFor();
            Files.deleteIfExists(cg);
            if (added) {
                tryWrite(root.resolve("cgroup.subtree_control"), "-cpuset");
            }
        }
    }

    private String partitionExclusivity(List<String> details) throws Exception {
        Path root = KernelState.CGROUP;
        if (!KernelState.unified()) {
            return "cgroup v1 has no partitions";
        }
        boolean added = enableCpuset(root);
        Path a = root.resolve("lab-part-a");
        Path b = root.resolve("lab-part-b");
        try {
            Files.createDirectory(a);
            Files.createDirectory(b);
            if (!Files.exists(a.resolve("cpuset.cpus.partition"))) {
                return "this kernel has no cpuset.cpus.partition";
            }
            write(a.resolve("cpuset.cpus"), "3");
            write(b.resolve("cpuset.cpus"), "2-3");
            String isolated = tryWrite(a.resolve("cpuset.cpus.partition"), "isolated");
            String shared = KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?");
            details.add("'isolated' into a child whose CPU 3 a sibling also holds: " + isolated + ", reads '" + shared + "'");
            write(b.resolve("cpuset.cpus"), "2");
            String after = KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?");
            details.add("once the sibling gives CPU 3 up: '" + after + "'");
            String again = tryWrite(a.resolve("cpuset.cpus.partition"), "isolated");
            String rewritten = KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?");
            details.add("'isolated' written again: " + again + ", reads '" + rewritten + "'");
            String viaMember = tryWrite(a.resolve("cpuset.cpus.partition"), "member") + ", "
                    + tryWrite(a.resolve("cpuset.cpus.partition"), "isolated");
            String exclusive = KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?");
            details.add("'member' then 'isolated': " + viaMember + ", reads '" + exclusive + "'");
            String root2 = tryWrite(a.resolve("cpuset.cpus.partition"), "root");
            details.add("'root' instead: " + root2 + ", reads '" + KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?") + "'");
            String member = tryWrite(a.resolve("cpuset.cpus.partition"), "member");
            details.add("'member' again: " + member + ", reads '" + KernelState.read(a.resolve("cpuset.cpus.partition")).orElse("?") + "'");
            if (isolated.contains("Invalid argument")) {
                return "this kernel does not know 'isolated' (" + isolated + ")";
            }
            check(shared.startsWith("isolated invalid"), "expected 'isolated invalid (...)' while a sibling holds the CPU, got: " + shared);
            check(exclusive.equals("isolated"), "expected 'isolated' once the CPU is exclusive, got: " + exclusive);
            // the simulated kernel's rule (TreeHostFs.writePartition): 6.12 looks again when the type is written again, 6.1 not
            String release = KernelState.read(Path.of("/proc/sys/kernel/osrelease")).orElse("").strip();
            boolean looksAgain = release.matches("(6\\.(1[2-9]|[2-9][0-9])|[7-9]|[1-9][0-9])\\..*");
            check(looksAgain ? rewritten.equals("isolated") : rewritten.startsWith("isolated invalid"), "kernel " + release
                    + ": the simulation expects 'isolated' written again to " + (looksAgain ? "look again" : "stay invalid")
                    + ", the kernel read back: " + rewritten);
            return null;
        } finally {
            tryWrite(a.resolve("cpuset.cpus.partition"), "member");
            Files.deleteIfExists(a);
            Files.deleteIfExists(b);
            if (added) {
                tryWrite(root.resolve("cgroup.subtree_control"), "-cpuset");
            }
        }
    }

    private String systemdDropsCpuset(List<String> details) throws Exception {
        if (!KernelState.unified()) {
            return "cgroup v1: systemd does not manage the cpuset hierarchy";
        }
        Path control = KernelState.CGROUP.resolve("cgroup.subtree_control");
        String before = KernelState.read(control).orElse("");
        if (before.contains("cpuset")) {
            return "systemd already enables cpuset at the root (" + before + ")";
        }
        try {
            write(control, "+cpuset");
            String written = KernelState.read(control).orElse("");
            Guest.must("systemctl", "daemon-reload");
            within(30, () -> !KernelState.read(control).orElse("").contains("cpuset"));
            String after = KernelState.read(control).orElse("");
            details.add("root subtree_control: '" + before + "' -> +cpuset -> '" + written + "' -> daemon-reload -> '" + after + "'");
            check(!after.contains("cpuset"), "expected systemd to remove cpuset on daemon-reload; it stayed: " + after);
            return null;
        } finally {
            tryWrite(control, "-cpuset");
        }
    }

    /** Records what systemd does with runtime AllowedCPUs, step by step: the facts its backend builds on. */
    private String systemdAllowedCpus(List<String> details) throws Exception {
        if (!KernelState.unified()) {
            return "cgroup v1: systemd's AllowedCPUs needs the unified hierarchy";
        }
        List<String> units = List.of("init.scope", "system.slice", "user.slice");
        Set<Integer> vm = fakeVm();
        SortedMap<String, String> before = KernelState.read();
        try {
            for (String unit : units) {
                Guest.must("systemctl", "set-property", "--runtime", "--", unit, "AllowedCPUs=" + HOST);
            }
            details.add("set " + HOST + ": " + systemdView(units) + "; loose processes: " + HostTasks.notConfined(HOST, vm).size());
            Guest.must("systemctl", "daemon-reload");
            details.add("after daemon-reload: " + systemdView(units) + "; loose processes: " + HostTasks.notConfined(HOST, vm).size());
            for (String unit : units) {
                Guest.must("systemctl", "set-property", "--runtime", "--", unit, "AllowedCPUs=");
            }
            Thread.sleep(1000);
            details.add("reset to '': " + systemdView(units) + "; processes still confined: " + HostTasks.notConfined(CpuSet.parseList("0-3"), vm).size()
                    + " of those not on every CPU: " + (HostTasks.processes().size() - HostTasks.notConfined(HOST, vm).size()));
            details.add("after reset, differences from before: " + KernelState.diff(before, KernelState.read()));
            for (String unit : units) {
                Files.deleteIfExists(Path.of("/run/systemd/system.control/" + unit + ".d/50-AllowedCPUs.conf"));
            }
            Guest.must("systemctl", "daemon-reload");
            Thread.sleep(1000);
            details.add("drop-ins removed + daemon-reload: " + systemdView(units));
            details.add("then, differences from before: " + KernelState.diff(before, KernelState.read()));
            return null;
        } finally {
            for (String unit : units) {
                Files.deleteIfExists(Path.of("/run/systemd/system.control/" + unit + ".d/50-AllowedCPUs.conf"));
            }
            Guest.run(60, "systemctl", "daemon-reload");
        }
    }

    private static String systemdView(List<String> units) throws IOException {
        StringBuilder b = new StringBuilder("root subtree_control '" + KernelState.read(KernelState.CGROUP.resolve("cgroup.subtree_control")).orElse("?") + "'");
        for (String unit : units) {
            Path dir = KernelState.CGROUP.resolve(unit);
            b.append("; ").append(unit).append(" cpuset.cpus '").append(KernelState.read(dir.resolve("cpuset.cpus")).orElse("(none)"))
                    .append("' effective '").append(KernelState.read(dir.resolve("cpuset.cpus.effective")).orElse("(none)"))
                    .append("' AllowedCPUs '").append(Guest.unitProperties(unit, "AllowedCPUs").get("AllowedCPUs"))
                    .append("' drop-in '").append(KernelState.read(Path.of("/run/systemd/system.control/" + unit + ".d/50-AllowedCPUs.conf"))
                            .orElse("(none)").replace('\n', '|')).append("'");
        }
        return b.toString();
    }

    // ---- the tool on this kernel ----------------------------------------------------------------

    private String applyRevert(List<String> details) throws Exception {
        Set<Integer> vm = fakeVm();
        Tool.profile("labvm", PROFILE);
        SortedMap<String, String> before = KernelState.read();
        // as a user runs it: a JVM per command
        Guest.Out apply = Tool.process("apply", "labvm");
        check(apply.ok(), "apply exited " + apply.code() + ":\n" + apply.both());
        details.add(firstLine(apply.out()));
        assertConfined(vm, details, 5);
        details.add("status: " + Tool.process("status", "labvm").both().replace('\n', '|'));
        if (KernelState.unified()) {
            // what a user sees of it through systemd, for the README
            details.add("systemctl show: " + Guest.run(60, "systemctl", "show", "user.slice", "system.slice", "-p", "AllowedCPUs",
                    "-p", "EffectiveCPUs").out().replace('\n', '|'));
            details.add("drop-in: " + KernelState.read(Path.of("/run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf"))
                    .orElse("(none)").replace('\n', '|'));
        }
        Guest.Out revert = Tool.process("revert", "labvm");
        details.add("revert labvm: exit " + revert.code() + ": " + firstLine(revert.both()));
        List<String> diff = KernelState.diff(before, KernelState.read());
        check(revert.ok() && diff.isEmpty(), "after revert (exit " + revert.code() + ") " + diff.size()
                + " values differ from before apply:\n" + String.join("\n", diff) + "\nrevert said: " + revert.both());
        return null;
    }

    /**
     * cgroups.mode: v2, the path of a host without systemd, on this kernel: cgroupfs is written directly. A
     * populated cgroup's cpuset.cpus cannot go back to '' (ENOSPC), so revert gives it its parent's CPUs, then
     * takes the root's cpuset controller away again (systemd had it off), which leaves the kernel as before.
     * No unit is started meanwhile: systemd would take the controller away (the "systemd:" scenario above).
     */
    private String cgroupfsDirect(List<String> details) throws Exception {
        if (!KernelState.unified()) {
            return "cgroup v1: the v2 cgroupfs path does not apply";
        }
        Set<Integer> vm = fakeVm();
        Tool.profile("labvm", PROFILE + "cgroups:\n  mode: v2\n");
        SortedMap<String, String> before = KernelState.read();
        Guest.Out apply = Tool.process("apply", "labvm");
        check(apply.ok(), "apply exited " + apply.code() + ":\n" + apply.both());
        details.add(firstLine(apply.out()) + "; root subtree_control '"
                + KernelState.read(KernelState.CGROUP.resolve("cgroup.subtree_control")).orElse("?") + "', init.scope cpuset.cpus '"
                + KernelState.read(KernelState.CGROUP.resolve("init.scope/cpuset.cpus")).orElse("?") + "'");
        assertConfined(vm, details, 3, true);
        Guest.Out revert = Tool.process("revert", "labvm", "--verbose");
        List<String> substituted = revert.both().lines().filter(l -> l.contains("instead of ''")).toList();
        details.add("revert labvm: exit " + revert.code() + "; cgroups the kernel would not give back '' (ENOSPC), given"
                + " their parent's CPUs before the controller went: " + substituted.size());
        substituted.stream().limit(2).forEach(details::add);
        List<String> diff = KernelState.diff(before, KernelState.read());
        check(revert.ok() && diff.isEmpty(), "after revert (exit " + revert.code() + ") " + diff.size()
                + " values differ from before apply:\n" + String.join("\n", diff) + "\nrevert said: " + revert.both());
        check(substituted.stream().anyMatch(l -> l.contains("/init.scope/cpuset.cpus")), "init.scope holds PID 1, so the kernel"
                + " refuses '' there; revert did not say it gave it its parent's CPUs:\n" + revert.both());
        return null;
    }

    /**
     * partition: isolated. On v2 the VM's CPUs become machine.slice's partition once the host's
     * slices have left them, it survives systemd realizing machine.slice again (daemon-reload, a new unit in
     * it), status shows the kernel's word for it, and revert leaves everything as before. On v1 the plan
     * says there is none and applies the rest.
     */
    private String partition(List<String> details) throws Exception {
        Set<Integer> vm = fakeVm();
        Tool.profile("labvm", PARTITION_PROFILE);
        Path slice = KernelState.CGROUP.resolve("machine.slice");
        if (!KernelState.unified()) {
            String plan = Tool.must("plan", Tool.PROFILES.resolve("labvm.yaml").toString());
            details.add(plan.lines().filter(l -> l.contains("partition: isolated")).findFirst().orElse("(no word of it)"));
            check(plan.contains("partition: isolated needs cgroup v2"), "plan on v1 says nothing of the partition:\n" + plan);
            return null;
        }
        SortedMap<String, String> before = KernelState.read();
        Guest.Out apply = Tool.process("apply", "labvm");
        check(apply.ok(), "apply exited " + apply.code() + ":\n" + apply.both());
        details.add(firstLine(apply.out()));
        assertConfined(vm, details, 0);
        String[] checks = {"after apply", "after daemon-reload", "after a new unit in machine.slice"};
        for (String when : checks) {
            if (when.equals(checks[1])) {
                Guest.must("systemctl", "daemon-reload");
                Thread.sleep(2000);
            } else if (when.equals(checks[2])) {
                Guest.must("systemd-run", "--unit=lab-transient", "--collect", "--slice=machine.slice", "sleep", "600");
                Thread.sleep(2000);
            }
            String state = KernelState.read(slice.resolve("cpuset.cpus.partition")).orElse("(none)").strip();
            String effective = KernelState.read(slice.resolve("cpuset.cpus.effective")).orElse("?").strip();
            String hostEffective = KernelState.read(KernelState.CGROUP.resolve("user.slice/cpuset.cpus.effective")).orElse("?").strip();
            details.add(when + ": machine.slice " + state + " on " + effective + ", user.slice on " + hostEffective
                    + KernelState.read(KernelState.CGROUP.resolve("cpuset.cpus.isolated")).map(i -> ", isolated CPUs " + i.strip()).orElse(""));
            check(state.equals("isolated") && effective.equals(VM.toString()) && hostEffective.equals(HOST.toString()),
                    when + ": machine.slice is " + state + " on " + effective + ", user.slice on " + hostEffective);
        }
        String status = Tool.process("status").out();
        details.add("status: " + status.lines().filter(l -> l.startsWith("partition:")).findFirst().orElse("(no partition line)"));
        check(status.contains("partition: /sys/fs/cgroup/machine.slice isolated"), "status does not show the partition:\n" + status);
        Guest.run(60, "systemctl", "stop", "lab-transient.service");
        revertAndCompare("labvm", before, details);
        // the snapshots leave machine.slice to libvirt: its partition is checked here
        String after = KernelState.read(slice.resolve("cpuset.cpus.partition")).map(String::strip).orElse("(gone with the controller)");
        details.add("after revert: machine.slice " + after);
        check(after.equals("member") || after.startsWith("(gone"), "after revert machine.slice is " + after);
        return null;
    }

    private String event(List<String> details, String event) throws Exception {
        Set<Integer> vm = fakeVm();
        Tool.profile("labvm", PROFILE);
        if (event.equals("login session")) {
            // a first login starts the user's manager, for which systemd enables controllers of its own: once
            // before the state to compare with, so only what the tool did counts
            login();
            Guest.run(60, "systemctl", "stop", "lab-login.service");
            awaitUserManagerGone();
        }
        SortedMap<String, String> before = KernelState.read();
        details.add(firstLine(Tool.must("apply", "labvm")));
        assertConfined(vm, details, 0);
        int newPid = switch (event) {
            case "daemon-reload" -> {
                Guest.must("systemctl", "daemon-reload");
                yield 0;
            }
            case "transient unit" -> {
                Guest.must("systemd-run", "--unit=lab-transient", "--collect", "sleep", "600");
                yield mainPid("lab-transient.service");
            }
            case "service restart" -> {
                Guest.must("systemctl", "restart", "lab-noise.service");
                yield mainPid("lab-noise.service");
            }
            case "login session" -> login();
            default -> throw new IllegalArgumentException(event);
        };
        Thread.sleep(2000); // systemd realizes units asynchronously
        if (newPid > 0) {
            details.add("new process " + newPid + " in " + KernelState.read(Path.of("/proc/" + newPid + "/cgroup")).orElse("?").replace('\n', '|')
                    + ", may run on " + HostTasks.statusField(Path.of("/proc/" + newPid + "/status"), "Cpus_allowed_list"));
        }
        assertConfined(vm, details, 3);
        Guest.run(60, "systemctl", "stop", "lab-transient.service", "lab-login.service");
        revertAndCompare("labvm", before, details);
        return null;
    }

    private String killPoints(List<String> details) throws Exception {
        fakeVm();
        Tool.profile("labvm", PROFILE);
        SortedMap<String, String> before = KernelState.read();
        // the window in which apply changes the host: from its journal (saved ahead of the first change) to its exit
        long[] window = timedApply();
        Tool.must("revert", "labvm");
        check(KernelState.diff(before, KernelState.read()).isEmpty(), "the uninterrupted apply + revert did not restore the state");
        details.add("an uninterrupted apply: journal after " + window[0] / 1_000_000 + " ms, exit after " + window[1] / 1_000_000 + " ms");
        SortedMap<String, String> quickBefore = KernelState.quick();
        Random random = new Random(seed);
        List<String> failures = new ArrayList<>();
        int killedMidway = 0;
        // each apply runs in a JVM started and warmed up while the previous point was checked
        Tool.ArmedJvm next = Tool.arm("labvm", "apply", "labvm");
        for (int i = 0; i < KILL_POINTS; i++) {
            long delay = (long) (random.nextDouble() * (window[1] - window[0]));
            Tool.ArmedJvm armed = next;
            armed.ready();
            armed.fire();
            Process p = armed.process();
            long journalAt = awaitJournal(p);
            Thread.sleep(delay / 1_000_000, (int) (delay % 1_000_000));
            boolean alive = p.isAlive();
            List<ProcessHandle> children = p.descendants().toList();
            p.destroyForcibly().waitFor();
            // a systemctl the apply had started runs to its end, as it would before the VM's stop reverts
            for (ProcessHandle child : children) {
                child.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            next = i + 1 < KILL_POINTS ? Tool.arm("labvm", "apply", "labvm") : null;
            killedMidway += alive && journalAt > 0 ? 1 : 0;
            Guest.Out revert = Tool.run("revert", "labvm");
            List<String> diff = KernelState.diff(quickBefore, KernelState.quick());
            String line = "kill " + i + " at +" + delay / 1_000_000 + " ms after the journal" + (alive ? "" : " (apply had ended)")
                    + ": revert exit " + revert.code() + ", " + diff.size() + " values differ";
            details.add(line);
            GuestMain.log(line);
            if (revert.code() != 0 || !diff.isEmpty()) {
                failures.add(line + (revert.code() != 0 ? "\n  revert: " + revert.both() : "") + (diff.isEmpty() ? "" : "\n  " + String.join("\n  ", diff)));
                Tool.run("revert", "--all", "--force");
            }
        }
        details.add(killedMidway + " of " + KILL_POINTS + " kills landed while apply was changing the host");
        check(failures.isEmpty(), failures.size() + " of " + KILL_POINTS + " kill points did not end identical:\n" + String.join("\n", failures));
        List<String> diff = KernelState.diff(before, KernelState.read());
        check(diff.isEmpty(), "after all kill points, systemd's view differs:\n" + String.join("\n", diff));
        return null;
    }

    private String cycles(List<String> details) throws Exception {
        fakeVm();
        Tool.profile("labvm", PROFILE);
        SortedMap<String, String> before = KernelState.read();
        SortedMap<String, String> quickBefore = KernelState.quick();
        for (int i = 0; i < CYCLES; i++) {
            Tool.must("apply", "labvm");
            Tool.must("revert", "labvm");
            List<String> diff = KernelState.diff(quickBefore, KernelState.quick());
            check(diff.isEmpty(), "cycle " + (i + 1) + " did not end identical:\n" + String.join("\n", diff));
        }
        List<String> diff = KernelState.diff(before, KernelState.read());
        check(diff.isEmpty(), "after " + CYCLES + " cycles, systemd's view differs:\n" + String.join("\n", diff));
        details.add(CYCLES + " cycles, each identical to the state before");
        return null;
    }

    private String twoVms(List<String> details) throws Exception {
        Set<Integer> vm = fakeVm();
        Tool.profile("lab-a", PROFILE.replace("pin: [2, 3]", "pin: [2]"));
        Tool.profile("lab-b", PROFILE.replace("pin: [2, 3]", "pin: [3]"));
        SortedMap<String, String> before = KernelState.read();
        for (List<String> stopOrder : List.of(List.of("lab-a", "lab-b"), List.of("lab-b", "lab-a"))) {
            Tool.must("apply", "lab-a");
            Tool.must("apply", "lab-b");
            assertConfined(vm, details, 0);
            Tool.must("revert", stopOrder.get(0));
            assertConfined(vm, details, 0);
            revertAndCompare(stopOrder.get(1), before, details);
            details.add("stopped " + stopOrder + ": identical");
        }
        return null;
    }

    /**
     * The whole path as a user has it: 'install' puts the hook in place, libvirtd (under systemd) starts
     * a TCG domain whose vCPU and emulator are pinned to a VM CPU in its XML, the hook isolates it at
     * prepare and started, and puts everything back when the domain is destroyed.
     */
    private String libvirtVm(List<String> details) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/sbin/libvirtd"))) {
            return "no libvirtd in this image";
        }
        if (!KernelState.unified()) {
            // an install trains its class-data archive under TCG for minutes; v1 ran it once (RELIABILITY.md), and
            // the CI machine's own cgroup v1 runs the hook under libvirtd in e2e.LibvirtHookE2eTest
            return "cgroup v1: libvirt with the installed hook runs on v2 here and on the CI machine's own v1";
        }
        Tool.profile("labgame", String.join("\n", "host_cpus: 0-1", "vcpus:", "  pin: [2]", "emulator_cpus: 2",
                "iothread_cpus: 0-1", "governor: leave", "cstates:", "  method: leave", ""));
        Path xml = Path.of("/run/lab/labgame.xml");
        Files.createDirectories(xml.getParent());
        // no disk: the guest sits in its firmware, which is all the hook needs of a VM
        Files.writeString(xml, String.join("\n", "<domain type='qemu'>", "  <name>labgame</name>",
                "  <memory unit='MiB'>64</memory>", "  <vcpu placement='static'>1</vcpu>",
                "  <cputune><vcpupin vcpu='0' cpuset='2'/><emulatorpin cpuset='2'/></cputune>",
                "  <os><type arch='x86_64' machine='pc'>hvm</type></os>",
                "  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>", "</domain>", ""));
        long t0 = System.nanoTime();
        Guest.Out install = Tool.install();
        check(install.ok(), "install exited " + install.code() + ":\n" + install.both());
        details.add("install took " + seconds(t0) + " s");
        try {
            Guest.must("systemctl", "restart", "libvirtd.service"); // it looks for hooks when it starts
            SortedMap<String, String> before = KernelState.read();
            long t1 = System.nanoTime();
            Guest.Out create = Guest.run(300, "virsh", "-c", "qemu:///system", "create", xml.toString());
            details.add("virsh create (two hook calls and QEMU's start) took " + seconds(t1) + " s");
            check(create.ok(), "virsh create exited " + create.code() + ": " + create.both() + "\nhook log:\n" + hookLog());
            int qemu = Integer.parseInt(KernelState.read(Path.of("/run/libvirt/qemu/labgame.pid")).orElse("0"));
            details.add("QEMU " + qemu + " threads: " + threads(qemu));
            Set<Integer> vm = Set.of(qemu, fakeVm().iterator().next());
            assertConfined(vm, details, 3);
            Guest.must("systemctl", "daemon-reload");
            Thread.sleep(2000);
            assertConfined(vm, details, 0);
            details.add("after daemon-reload, still confined");
            // what a user sees while the VM runs, for the README
            Guest.Out status = Tool.process("status", "labgame");
            details.add("status: exit " + status.code() + ": " + status.both().replace('\n', '|'));
            check(status.ok(), "status while the VM runs exited " + status.code() + ":\n" + status.both());
            Guest.Out destroy = Guest.run(300, "virsh", "-c", "qemu:///system", "destroy", "labgame");
            check(destroy.ok(), "virsh destroy exited " + destroy.code() + ": " + destroy.both());
            // the release hook, and systemd's removal of QEMU's scope, finish after destroy returns
            within(60, () -> KernelState.diff(before, KernelState.read()).isEmpty());
            List<String> diff = KernelState.diff(before, KernelState.read());
            details.add("hook log: " + hookLog().replace('\n', '|'));
            check(diff.isEmpty(), "after the VM stopped, " + diff.size() + " values differ from before it started:\n"
                    + String.join("\n", diff));
            return null;
        } finally {
            Guest.run(120, "virsh", "-c", "qemu:///system", "destroy", "labgame");
            details.add("uninstall: exit " + Tool.process("uninstall").code());
        }
    }

    /**
     * IRQs whose affinity this kernel will not change, found by writing each one's own value back (a
     * no-op where it is allowed): without the kernel's IRQ debugfs a capture cannot show them.
     */
    private static Map<String, String> irqsRefused() {
        Map<String, String> refused = new java.util.TreeMap<>();
        for (Path dir : KernelState.list(Path.of("/proc/irq"))) {
            Path list = dir.resolve("smp_affinity_list");
            String now = KernelState.read(list).orElse(null);
            if (now != null) {
                String r = tryWrite(list, now);
                if (!r.equals("ok")) {
                    refused.put(dir.getFileName().toString(), r);
                }
            }
        }
        return refused;
    }

    private static long seconds(long since) {
        return Math.round((System.nanoTime() - since) / 1e9);
    }

    private static String threads(int pid) {
        List<String> out = new ArrayList<>();
        for (Path task : KernelState.list(Path.of("/proc/" + pid + "/task"))) {
            out.add(KernelState.read(task.resolve("comm")).orElse("?") + " on "
                    + HostTasks.statusField(task.resolve("status"), "Cpus_allowed_list"));
        }
        return String.join(", ", out);
    }

    private static String hookLog() {
        return KernelState.read(Path.of("/var/log/vfio-orchestrator/hook.log")).orElse("(no hook log)");
    }

    /**
     * Captures this guest (the tool's own 'capture'), then applies and reverts on the real kernel, and
     * leaves the capture, the profile and the kernel files' values before, applied and reverted in the
     * share. The host replays the same on the capture through the simulated kernel and compares.
     */
    /**
     * The profiles the simulated kernel is compared on, by name: the lab's own, and on v2 its partition and
     * its cgroups written directly (the kernel's partition and ENOSPC rules).
     */
    static Map<String, String> differentialProfiles() {
        Map<String, String> profiles = new LinkedHashMap<>();
        profiles.put("plain", PROFILE);
        if (KernelState.unified()) {
            profiles.put("partition", PARTITION_PROFILE);
            profiles.put("cgroupfs", PROFILE + "cgroups:\n  mode: v2\n");
        }
        return profiles;
    }

    private String differential(List<String> details) throws Exception {
        fakeVm();
        for (Map.Entry<String, String> profile : differentialProfiles().entrySet()) {
            Tool.profile("labvm", profile.getValue());
            Path dir = Path.of("/lab/out", DIFFERENTIAL_DIR, profile.getKey());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("labvm.yaml"), profile.getValue());
            Tool.must("capture", dir.resolve("capture").toString());
            Map<String, Object> real = new LinkedHashMap<>();
            real.put("irqsRefused", irqsRefused());
            real.put("before", KernelState.files(Path.of("/")));
            Guest.Out apply = Tool.run("apply", "labvm");
            real.put("applyExit", apply.code());
            real.put("applied", KernelState.files(Path.of("/")));
            Guest.Out revert = Tool.run("revert", "labvm");
            real.put("revertExit", revert.code());
            real.put("revertOutput", revert.both());
            real.put("reverted", KernelState.files(Path.of("/")));
            Files.writeString(dir.resolve("real.json"), com.fasterxml.jackson.jr.ob.JSON.std.asString(real));
            details.add(profile.getKey() + ": apply exit " + apply.code() + ", revert exit " + revert.code());
        }
        return null;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /**
     * The host's processes may run on the host CPUs only; but for the VM's, and, written directly (v1),
     * the daemons the profile keeps with every CPU (cgroups.keep: libvirtd, virtqemud). Through systemd whole
     * slices are confined, libvirtd with them.
     */
    private void assertConfined(Set<Integer> vm, List<String> details, double sampleSeconds) throws InterruptedException {
        assertConfined(vm, details, sampleSeconds, !KernelState.unified());
    }

    /** @param keptFree whether the processes cgroups.keep names keep every CPU (where the tool writes cgroups directly) */
    private void assertConfined(Set<Integer> vm, List<String> details, double sampleSeconds, boolean keptFree)
            throws InterruptedException {
        Set<Integer> exempt = new java.util.HashSet<>(vm);
        if (keptFree) {
            for (HostTasks.Task t : HostTasks.processes()) {
                if (KEPT.contains(t.comm())) {
                    exempt.add(t.pid());
                }
            }
        }
        List<String> loose = HostTasks.notConfined(HOST, exempt);
        check(loose.isEmpty(), loose.size() + " host processes may still run on the VM's CPUs " + VM + ":\n" + String.join("\n", loose));
        if (sampleSeconds > 0) {
            List<String> kernel = new ArrayList<>();
            List<String> ran = HostTasks.ranOnVmCpus(VM, exempt, sampleSeconds, kernel);
            details.add("sampled " + sampleSeconds + " s: " + ran.size() + " host threads ran on CPUs " + VM
                    + (kernel.isEmpty() ? "" : "; unbound kernel threads there: " + kernel));
            check(ran.isEmpty(), "host threads ran on the VM's CPUs:\n" + String.join("\n", ran));
        }
    }

    private void revertAndCompare(String vm, SortedMap<String, String> before, List<String> details) {
        Guest.Out revert = Tool.run("revert", vm);
        details.add("revert " + vm + ": exit " + revert.code() + (revert.ok() ? "" : ": " + revert.both()));
        List<String> diff = KernelState.diff(before, KernelState.read());
        check(revert.ok() && diff.isEmpty(), "after revert " + vm + " (exit " + revert.code() + ") " + diff.size()
                + " values differ from before apply:\n" + String.join("\n", diff) + (revert.ok() ? "" : "\nrevert said: " + revert.both()));
    }

    /** Polls until {@code done} holds, at most {@code seconds}: systemd finishes some work after the call that asked. */
    private static void within(int seconds, java.util.function.BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(200);
        }
    }

    /**
     * Waits until the warm-up login's user manager (user@1000.service) has stopped (logind stops it 10 s
     * after the last session): it enables controllers in its own delegated cgroup while it starts, which a
     * snapshot taken meanwhile would count against the tool.
     */
    private static void awaitUserManagerGone() throws InterruptedException {
        for (int i = 0; i < 60; i++) {
            String state = Guest.run(30, "systemctl", "is-active", "user@1000.service").out().strip();
            if (state.equals("inactive") || state.equals("failed")) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("user@1000.service did not stop within a minute of the warm-up login");
    }

    /** A login session of the user 'lab' (PAM registers it with logind: a session scope in user.slice); its process. */
    private static int login() throws InterruptedException {
        Guest.must("systemd-run", "--unit=lab-login", "--collect", "--uid=lab", "-p", "PAMName=login", "sleep", "600");
        Thread.sleep(1000);
        return mainPid("lab-login.service");
    }

    /** Runs one apply to its end; returns when its journal appeared and when it exited, in ns from its start. */
    private long[] timedApply() throws Exception {
        Tool.ArmedJvm armed = Tool.arm("labvm", "apply", "labvm");
        armed.ready();
        long start = System.nanoTime();
        armed.fire();
        Process p = armed.process();
        long journal = awaitJournal(p) - start;
        p.waitFor();
        check(p.exitValue() == 0, "apply exited " + p.exitValue());
        return new long[] {journal, System.nanoTime() - start};
    }

    /** Waits until the journal exists (the time, in System.nanoTime) or the process ended (0). */
    private static long awaitJournal(Process p) throws InterruptedException {
        while (p.isAlive()) {
            if (Files.exists(Tool.JOURNAL)) {
                return System.nanoTime();
            }
            Thread.sleep(2);
        }
        return 0;
    }

    /** The stand-in VM: a process named like QEMU in machine.slice, started once. */
    private Set<Integer> fakeVm() throws IOException {
        if (fakeVm == 0) {
            // not under /run: it is mounted noexec
            Path qemu = Path.of("/usr/local/libexec/lab/qemu-system-x86_64");
            Files.createDirectories(qemu.getParent());
            Files.copy(Path.of("/usr/bin/sleep"), qemu, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(qemu, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Guest.must("systemd-run", "--unit=lab-fakevm", "--slice=machine.slice", qemu.toString(), "infinity");
            fakeVm = mainPid("lab-fakevm.service");
            check(fakeVm > 0, "the stand-in VM did not start: " + Guest.run(30, "systemctl", "status", "lab-fakevm.service").both());
        }
        return Set.of(fakeVm);
    }

    /** Puts the guest back after a scenario, whatever happened; null when there was nothing to do. */
    String cleanUp() {
        List<String> done = new ArrayList<>();
        Guest.run(60, "systemctl", "stop", "lab-transient.service", "lab-login.service");
        if (Files.exists(Tool.JOURNAL)) {
            Guest.Out o = Tool.run("revert", "--all", "--force");
            done.add("revert --all --force: exit " + o.code() + " " + o.both());
        }
        return done.isEmpty() ? null : String.join("; ", done);
    }

    private static int mainPid(String unit) {
        return Integer.parseInt(Guest.unitProperties(unit, "MainPID").getOrDefault("MainPID", "0"));
    }

    private static String ownCgroup(long pid) {
        for (String line : KernelState.read(Path.of("/proc/" + pid + "/cgroup")).orElse("").split("\n")) {
            if (line.startsWith("0::")) {
                return line.substring(3);
            }
        }
        throw new AssertionError("no cgroup v2 line for pid " + pid);
    }

    private static boolean enableCpuset(Path dir) throws IOException {
        if (KernelState.read(dir.resolve("cgroup.subtree_control")).orElse("").contains("cpuset")) {
            return false;
        }
        write(dir.resolve("cgroup.subtree_control"), "+cpuset");
        return true;
    }

    /** One write(2) of the value and a newline, as echo does (an empty string alone would write nothing). */
    private static void write(Path file, String value) throws IOException {
        Files.writeString(file, value + "\n");
    }

    /** Writes and says "ok" or the kernel's error. */
    private static String tryWrite(Path file, String value) {
        try {
            write(file, value);
            return "ok";
        } catch (IOException e) {
            String m = e.getMessage();
            int colon = m == null ? -1 : m.lastIndexOf(": ");
            return colon < 0 ? String.valueOf(m) : m.substring(colon + 2);
        }
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s.strip() : s.substring(0, nl);
    }
}
