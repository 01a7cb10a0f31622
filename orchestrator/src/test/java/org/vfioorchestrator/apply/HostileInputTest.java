package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.hook.HookMain;
import org.vfioorchestrator.profile.ProfileStore;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.Tally;
import org.vfioorchestrator.testing.TreeSnapshot;
import org.vfioorchestrator.testing.Requires;

/**
 * Bad input where a user (or libvirt, or whoever can write a file) hits it: VM
 * names, profiles, the state directory and the hook's argv, through
 * {@code Main.run} and {@code HookMain.run}. Each case checks the exact message
 * and exit code, and that nothing changed: the host tree byte for byte, no
 * journal, and a decoy file that a followed symlink would have overwritten.
 *
 * <p>One generated tree serves the whole class (bad input must not change it,
 * and every case checks that against the same snapshot); each test puts the
 * installed profile and the state directory back first.
 */
class HostileInputTest {
    static final Tally TALLY = new Tally("HostileInputTest");
    private static final String NAME_RULE = "' is not supported: use letters, digits, '.', '_', '+' and '-' (at most 128, no '..')";

    @TempDir
    static Path dir;
    static Path root;
    static Path profile;
    static Path victim;
    static TreeSnapshot pristine;

    @BeforeAll
    static void tree() throws IOException {
        root = TreeHosts.generate(TreeHosts.tiny(HostSpec.Cgroup.V2), dir);
        profile = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml");
        Files.createDirectories(profile.getParent());
        // decoys where a name that escapes the profile directory would lead: a usable profile each
        for (String decoy : List.of("escape.yaml", "etc/escape.yaml", "etc/vfio-orchestrator/escape.yaml")) {
            Files.writeString(root.resolve(decoy), TreeHosts.TINY_PROFILE);
        }
        victim = dir.resolve("victim.txt");
        Files.createDirectories(dir.resolve("decoy-state"));
        Files.writeString(profile, TreeHosts.TINY_PROFILE);
        Files.createDirectories(root.resolve("var/log")); // as on any host; the tool logs below it
        pristine = TreeSnapshot.of(root);
    }

    @BeforeEach
    void reset() throws IOException {
        Files.deleteIfExists(profile);
        Files.writeString(profile, TreeHosts.TINY_PROFILE);
        Files.setPosixFilePermissions(profile, PosixFilePermissions.fromString("rw-r--r--"));
        deleteTree(root.resolve("run/vfio-orchestrator"));
        Files.writeString(victim, "precious, must not change\n");
        deleteTree(dir.resolve("decoy-state"));
        Files.createDirectories(dir.resolve("decoy-state"));
        Files.writeString(dir.resolve("decoy-state/journal.json"), "precious, must not change\n");
        assertEquals(List.of(), pristine.differences(TreeSnapshot.of(root)), "the tree is as generated");
        baseline = pristine;
    }

    /** What "nothing changed" compares with: the tree as generated, or as a test set it up. */
    private static TreeSnapshot baseline;

    /** For tests that change the tree themselves (a profile that is a symlink, a FIFO, other content). */
    static void setUpDone() {
        baseline = TreeSnapshot.of(root);
    }

    @AfterAll
    static void report() {
        TALLY.print();
    }

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of("--host-root", root.toString()));
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), all.toArray(new String[0]));
        return new Result(code, out.toString(), err.toString());
    }

    static Result hook(String stdin, String... argv) {
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--host-root", root.toString()));
        all.addAll(Arrays.asList(argv));
        int code = HookMain.run(new PrintWriter(err), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), all);
        return new Result(code, "", err.toString());
    }

    /** Bad inputs tried by the current test and not yet checked against the tree, and their kind. */
    private static int tried;
    private static String kind = "other";

    /** Every test ends with the check of its promise (one tree walk per test keeps the class fast). */
    @AfterEach
    void nothingChanged() throws IOException {
        assertNothingChanged("after " + tried + " bad inputs");
    }

    /** The promise for every bad input: the host as it was, no journal, the decoy untouched. */
    static void assertNothingChanged(String what) throws IOException {
        for (; tried > 0; tried--) {
            TALLY.add("bad inputs");
            TALLY.add("bad input: " + kind);
        }
        List<String> diff = new ArrayList<>(baseline.differences(TreeSnapshot.of(root)));
        Path state = root.resolve("run/vfio-orchestrator");
        if (!Files.isSymbolicLink(state) && Files.isRegularFile(state.resolve("journal.json"), LinkOption.NOFOLLOW_LINKS)) {
            diff.add("a journal was written");
        }
        if (!Files.readString(victim).equals("precious, must not change\n")) {
            diff.add("the decoy behind a symlink was written");
        }
        try (Stream<Path> s = Files.list(dir.resolve("decoy-state"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            if (!names.equals(List.of("journal.json"))
                    || !Files.readString(dir.resolve("decoy-state/journal.json")).equals("precious, must not change\n")) {
                diff.add("the directory behind the state symlink was written: " + names);
            }
        }
        if (!diff.isEmpty()) {
            TALLY.add("state lost");
        }
        assertEquals(List.of(), diff, what);
    }

    static void assertResult(Result r, int code, String err, String what) throws IOException {
        assertEquals(err, r.err(), what);
        assertEquals(code, r.code(), what);
        tried++;
    }

    // ---------------------------------------------------------------- VM names

    static Stream<String> badNames() {
        return Stream.of("a/b", "..", ".", "../escape", "../../escape", "../../../../../../escape", "tiny/../../escape",
                "/etc/passwd", "a\0b", "tiny\0", "tiny\n", "a\nb", "a\rb", "tiny\u2028x", "tiny\u0085", "x".repeat(129),
                "y".repeat(100_000), "", " ", ".hidden", "a..b", "tiny.yaml/..", "t i n y", "tiny;reboot", "$(reboot)",
                "win11\u00e9");
    }

    @ParameterizedTest
    @MethodSource("badNames")
    void aBadVmNameIsRefusedByEveryCommandAndTheHookAndChangesNothing(String vm) throws IOException {
        kind = "VM names";
        String shown = (vm.length() > 40 ? vm.substring(0, 40) + "..." : vm).replaceAll("[\\p{Cc}\\u2028\\u2029]", "?");
        String why = "VM name '" + shown + NAME_RULE;
        assertResult(cli("apply", vm), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
        assertResult(cli("revert", vm), 1, "vfio-orchestrator revert: " + why + "\n", "revert");
        assertResult(cli("apply", vm, "--profile", profile.toString()), 1, "vfio-orchestrator apply: " + why + "\n",
                "apply --profile");
        // libvirt shows a failed start's stderr: one line, no control characters, the name cut short
        for (String start : List.of("prepare", "started")) {
            assertResult(hook("", vm, start, "begin", "-"), 1, "vfio-orchestrator: VM " + shown + " not started: " + why + "\n",
                    start);
        }
        // a stop cannot be aborted and a non-zero reconnect kills the VM: always 0, and nothing on stdout/stderr
        for (List<String> op : List.of(List.of("stopped", "end"), List.of("release", "end"), List.of("reconnect", "begin"),
                List.of("migrate", "begin"), List.of("restore", "begin"), List.of("attach", "begin"))) {
            assertResult(hook("", vm, op.get(0), op.get(1), "-"), 0, "", String.join(" ", op));
        }
    }

    // ---------------------------------------------------------------- profiles

    static Stream<Arguments> badProfiles() {
        String billionLaughs = """
                host_cpus: 0,2
                a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
                d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
                e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
                """;
        return Stream.of(
                Arguments.of("unclosed list", "host_cpus: [0, 2\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:6: not valid YAML: expected ',' or ']', but got :; check indentation (spaces, not tabs) and quoting")),
                Arguments.of("tab indentation", "host_cpus: 0,2\nvcpus:\n\tpin: [1, 3]\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":3:1: not valid YAML: found character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB)"
                                + " for indentation); check indentation (spaces, not tabs) and quoting")),
                Arguments.of("billion laughs", billionLaughs.getBytes(StandardCharsets.UTF_8),
                        List.of(": too many YAML aliases (*name); a profile needs none, write the values out")),
                Arguments.of("scalar alias", "host_cpus: &h 0,2\nemulator_cpus: *h\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: emulator_cpus: YAML aliases (*name) are not allowed in a profile; write the value out")),
                Arguments.of("self-referencing alias", "host_cpus: 0,2\nvcpus: &v {pin: [1, 3], count: *v}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:8: vcpus: count and from only go with pin: auto; remove them or write pin: auto")),
                Arguments.of("huge", ("# " + "x".repeat(70_000) + "\n").getBytes(StandardCharsets.UTF_8),
                        List.of(": profile is larger than 64 KiB; a profile is a page of YAML, check you named the right file")),
                Arguments.of("deep nesting", ("host_cpus: " + "[".repeat(50) + "]".repeat(50) + "\n").getBytes(StandardCharsets.UTF_8),
                        List.of(": not valid YAML: Nesting Depth exceeded max 20")),
                Arguments.of("empty", new byte[0],
                        List.of(": the profile is empty; start from profiles/template.yaml")),
                Arguments.of("not UTF-8", "host_cpus: 0,2 # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1),
                        List.of(": not UTF-8 text; save the profile as UTF-8")),
                Arguments.of("NUL byte", "host_cpus: 0,2\0\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(": character U+0000 at line 1 is not allowed in YAML; remove it")),
                Arguments.of("two documents", "host_cpus: 0,2\n---\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:1: not valid YAML: but found another document; check indentation (spaces, not tabs) and quoting")),
                Arguments.of("java tag", "host_cpus: !!java.io.File /etc\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: not valid YAML: Global tag is not allowed: tag:yaml.org,2002:java.io.File; check indentation"
                                + " (spaces, not tabs) and quoting")),
                Arguments.of("malformed tag (found by Jazzer)", "!=*%c".getBytes(StandardCharsets.UTF_8),
                        List.of(": not valid YAML: Tag must not contain leading or trailing spaces. A profile needs no '!' tags;"
                                + " remove them")),
                Arguments.of("a list at the top", "- host_cpus: 0,2\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:1: profile: expected a mapping of keys (cgroups, cstates, emulator_cpus, governor, host_cpus,"
                                        + " iothread_cpus, irqs, measure, partition, vcpus, vm, workqueues)",
                                ":1:1: host_cpus: missing; name the CPUs the host keeps while the VM runs, e.g. host_cpus: 0,16",
                                ":1:1: vcpus: missing; give the vCPU pins, e.g. vcpus: {pin: [2, 18, 3, 19]} or {pin: auto, count: 4}")),
                Arguments.of("wrong types", "host_cpus: [0, 2]\nvcpus: 3\ngovernor: {a: b}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: host_cpus: expected a CPU list such as 0-3,8, not a list",
                                ":2:8: vcpus: expected a mapping of keys (count, from, pin)",
                                ":2:8: vcpus.pin: missing; write a list of host CPUs (one per vCPU) or 'auto'",
                                ":3:11: governor: expected a cpufreq governor name or 'leave', not a mapping")),
                Arguments.of("a mapping as a key", "? [a]\n: b\nhost_cpus: 0,2\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:3: profile: keys must be plain words")),
                Arguments.of("typo", "host_cpus: 0,2\nvcpus: {pin: [1, 3]}\ngoveror: performance\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":3:1: goveror: unknown key; did you mean 'governor'? Allowed here: cgroups, cstates, emulator_cpus,"
                                + " governor, host_cpus, iothread_cpus, irqs, measure, partition, vcpus, vm, workqueues")),
                Arguments.of("CPU beyond any kernel", "host_cpus: 0-99999\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: host_cpus: bad CPU list '0-99999': CPU number out of range 0-16383; write it like 0-3,8,10-11")),
                Arguments.of("CPU the host lacks", "host_cpus: 0,200\nvcpus: {pin: [1, 7]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: host_cpus: CPU 200 does not exist on this host (it has CPUs 0-3); use CPUs from 0-3",
                                ":2:18: vcpus.pin[1]: CPU 7 does not exist on this host (it has CPUs 0-3); use CPUs from 0-3")),
                Arguments.of("negative CPUs", "host_cpus: -1\nvcpus: {pin: [-1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: host_cpus: bad CPU list '-1': CPU numbers are never negative; the first CPU is 0;"
                                        + " write it like 0-3,8,10-11",
                                ":2:15: vcpus.pin[0]: -1 is out of range; write a number from 0 to 16383")),
                Arguments.of("reversed range", "host_cpus: 2-0\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:12: host_cpus: bad CPU list '2-0': range is reversed, write 0-2; write it like 0-3,8,10-11")),
                Arguments.of("numbers that are no CPU", "host_cpus: 0,2\nvcpus: {pin: [99999999999, 1.5]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:15: vcpus.pin[0]: 99999999999 is out of range; write a number from 0 to 16383",
                                ":2:28: vcpus.pin[1]: '1.5' is not a whole number")),
                Arguments.of("duplicate key", "host_cpus: 0,2\nhost_cpus: 0\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:1: host_cpus: given twice; keep one")),
                Arguments.of("duplicate nested key", "host_cpus: 0,2\nvcpus: {pin: [1, 3], pin: [3, 1]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:22: vcpus.pin: given twice; keep one")),
                Arguments.of("one CPU for two vCPUs", "host_cpus: 0,2\nvcpus: {pin: [1, 1]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:18: vcpus.pin[1]: CPU 1 is already pinned to vCPU 0; give each vCPU its own CPU")),
                Arguments.of("vm name escaping", "vm: ../../escape\nhost_cpus: 0,2\nvcpus: {pin: [1, 3]}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":1:5: vm: '../../escape' is not a usable VM name; use letters, digits, '.', '_', '+' or '-' (at most 128)")),
                Arguments.of("cgroup root escaping", "host_cpus: 0,2\nvcpus: {pin: [1, 3]}\ncgroups: {root: /sys/fs/cgroup/../../../etc}\n"
                                .getBytes(StandardCharsets.UTF_8),
                        List.of(":3:17: cgroups.root: '/sys/fs/cgroup/../../../etc' is not under /sys/fs/cgroup; write e.g."
                                + " /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset (v1)")),
                vmsCgroupAsRoot("libvirt's machine.slice as cgroup root", "/sys/fs/cgroup/machine.slice", "is machine.slice"),
                vmsCgroupAsRoot("the VM's own scope as cgroup root", "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dtiny.scope",
                        "is under machine.slice"),
                vmsCgroupAsRoot("libvirt's v1 machine cpuset as cgroup root", "/sys/fs/cgroup/cpuset/machine", "is machine"),
                vmsCgroupAsRoot("a VM's cgroup without systemd as cgroup root", "/sys/fs/cgroup/machine/qemu-1-tiny.libvirt-qemu",
                        "is under machine"),
                Arguments.of("workqueue escaping", "host_cpus: 0,2\nvcpus: {pin: [1, 3]}\nworkqueues: {also: ['../../../etc']}\n"
                                .getBytes(StandardCharsets.UTF_8),
                        List.of(":3:20: workqueues.also: '../../../etc' has no cpumask in /sys/devices/virtual/workqueue/ on this host;"
                                + " write one of [blkcg_punt_bio, writeback]")),
                Arguments.of("count out of range", "host_cpus: 0,2\nvcpus: {pin: auto, count: 999999}\n".getBytes(StandardCharsets.UTF_8),
                        List.of(":2:27: vcpus.count: 999999 is out of range; write a number from 1 to 4096")),
                Arguments.of("duration out of range", "host_cpus: 0,2\nvcpus: {pin: [1, 3]}\nmeasure: {duration: 99999999h}\n"
                                .getBytes(StandardCharsets.UTF_8),
                        List.of(":3:21: measure.duration: '99999999h' is not a duration; write it like 500ms, 30s, 2m or 1h")));
    }

    /** A profile whose cgroups.root is in libvirt's cgroups for VMs: confined, QEMU could not be pinned. */
    private static Arguments vmsCgroupAsRoot(String name, String root, String is) {
        return Arguments.of(name, ("host_cpus: 0,2\nvcpus: {pin: [1, 3]}\ncgroups: {root: " + root + "}\n").getBytes(StandardCharsets.UTF_8),
                List.of(":3:17: cgroups.root: '" + root + "' " + is + ", libvirt's cgroup for VMs: confined to the host CPUs,"
                        + " their vCPUs could not be pinned to their own; write e.g. /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset"
                        + " (v1), or leave the key out"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badProfiles")
    void aBadProfileIsRefusedWithEveryProblemAndChangesNothing(String name, byte[] content, List<String> problems) throws IOException {
        kind = "profile contents";
        Files.write(profile, content);
        setUpDone();
        String file = profile.toString();
        StringBuilder cliErr = new StringBuilder();
        problems.forEach(p -> cliErr.append("vfio-orchestrator apply: ").append(file).append(p).append('\n'));
        assertResult(cli("apply", "tiny"), 1, cliErr.toString(), "apply");
        assertResult(cli("plan", file), 1, cliErr.toString().replace("vfio-orchestrator apply: ", "vfio-orchestrator plan: "),
                "plan");
        String joined = String.join(" ", problems.stream().map(p -> file + p).toList());
        assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + joined + "\n",
                "hook prepare");
    }

    @Test
    void aProfileThatNeverEndsIsReadOnlyUpToTheLimit() throws IOException {
        kind = "profile contents";
        // /dev/zero has size 0 and no end: reading it whole ran out of memory
        assertResult(cli("plan", "/dev/zero"), 1, "vfio-orchestrator plan: /dev/zero: profile is larger than 64 KiB;"
                + " a profile is a page of YAML, check you named the right file\n", "plan /dev/zero");
        assertResult(cli("apply", "tiny", "--profile", "/dev/zero"), 1, "vfio-orchestrator apply: /dev/zero: profile is larger"
                + " than 64 KiB; a profile is a page of YAML, check you named the right file\n", "apply --profile /dev/zero");
        // on the real machine it is not even opened
        assertEquals("/dev/zero is not a regular file (a pipe, socket or device); a profile is a YAML file",
                assertThrows(OrchestratorException.class, () -> ProfileStore.readTrustedFile(Path.of("/dev/zero"))).getMessage());
    }

    /** How the installed profile is made untrustworthy, and the message that refuses it. */
    enum UnsafeProfile {
        WORLD_WRITABLE, GROUP_WRITABLE, OTHERS_WRITABLE_ONLY, NOT_OWNED_BY_ROOT, SYMLINK, DIRECTORY, FIFO;

        String apply(Path p) throws IOException {
            String where = p.toString();
            switch (this) {
                case WORLD_WRITABLE -> {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-rw-"));
                    return where + " can be written by group or others (mode 666); anyone could change what root does: chmod 644 " + where;
                }
                case GROUP_WRITABLE -> {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-r--"));
                    return where + " can be written by group or others (mode 664); anyone could change what root does: chmod 644 " + where;
                }
                case OTHERS_WRITABLE_ONLY -> {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw----rw-"));
                    return where + " can be written by group or others (mode 606); anyone could change what root does: chmod 644 " + where;
                }
                case NOT_OWNED_BY_ROOT -> {
                    Files.setAttribute(p, "unix:uid", 65534);
                    return where + " is owned by uid 65534; a profile runs as root, so it must belong to root: chown root:root " + where;
                }
                case SYMLINK -> {
                    Path elsewhere = dir.resolve("elsewhere.yaml"); // outside the tree: where an attacker writes
                    Files.writeString(elsewhere, TreeHosts.TINY_PROFILE);
                    Files.delete(p);
                    Files.createSymbolicLink(p, elsewhere);
                    return where + " is a symlink; refusing it. Put the profile file itself there";
                }
                case DIRECTORY -> {
                    Files.delete(p);
                    Files.createDirectory(p);
                    return where + " is a directory; a profile is a YAML file";
                }
                default -> {
                    Files.delete(p);
                    mkfifo(p);
                    return where + " is not a regular file (a pipe, socket or device); a profile is a YAML file: remove it and"
                            + " put the profile file itself there";
                }
            }
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(UnsafeProfile.class)
    void anUnsafeProfileIsRefusedLikeSudoAndSshdDo(UnsafeProfile how) throws Exception {
        kind = "profile files";
        Requires.that(isRoot() || how != UnsafeProfile.NOT_OWNED_BY_ROOT, "needs root: chown");
        String why = how.apply(profile);
        setUpDone();
        assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
        // named by hand for the real machine: the same checks, as root acts on it all the same (only the fix differs)
        OrchestratorException byHand = assertThrows(OrchestratorException.class, () -> ProfileStore.readTrustedFile(profile));
        assertEquals(why.replace("Put the profile file itself there", "Name the profile file itself")
                .replace(": remove it and put the profile file itself there", ""), byHand.getMessage());
        if (how == UnsafeProfile.GROUP_WRITABLE) {
            // on a host tree nothing real changes: a checkout's example profile works whatever the umask made of it
            Path copy = Files.createDirectories(dir.resolve("by-hand")).resolve("tiny.yaml");
            Files.copy(profile, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-rw-r--"));
            var byHandRun = cli("apply", "tiny", "--profile", copy.toString());
            assertEquals(0, byHandRun.code(), "apply --profile on a tree: " + byHandRun);
            assertEquals(0, cli("revert", "tiny").code(), "revert on a tree");
        }
        assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                "hook prepare");
        assertResult(hook("", "tiny", "release", "end", "-"), 0, "", "hook release");
    }

    /**
     * How a directory on the way to the installed profile is made untrustworthy (issue 18 item 1: each of these
     * was accepted, so whoever could write the directory chose what root does), and the refusal's first words.
     */
    enum UnsafeProfileDirectory {
        PROFILES_WORLD_WRITABLE("etc/vfio-orchestrator/profiles", "rwxrwxrwx"),
        PROFILES_GROUP_WRITABLE("etc/vfio-orchestrator/profiles", "rwxrwxr-x"),
        PARENT_WORLD_WRITABLE("etc/vfio-orchestrator", "rwxrwxrwx"),
        ETC_WORLD_WRITABLE("etc", "rwxrwxrwx"),
        ROOT_WORLD_WRITABLE("", "rwxrwxrwx"),
        PROFILES_NOT_OWNED_BY_ROOT("etc/vfio-orchestrator/profiles", null),
        PROFILES_A_SYMLINK("etc/vfio-orchestrator/profiles", null),
        PARENT_A_SYMLINK("etc/vfio-orchestrator", null);

        final String directory;
        final String mode;

        UnsafeProfileDirectory(String directory, String mode) {
            this.directory = directory;
            this.mode = mode;
        }

        /** Makes the directory unsafe; returns the refusal and what puts it back. */
        String apply(Path root, List<Runnable> undo) throws IOException {
            Path d = directory.isEmpty() ? root : root.resolve(directory);
            String file = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml").toString();
            if (mode != null) {
                var before = Files.getPosixFilePermissions(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(mode));
                undo.add(() -> quietly(() -> Files.setPosixFilePermissions(d, before)));
                return d + " can be written by group or others (mode " + (mode.endsWith("rwx") ? "777" : "775")
                        + "); anyone could put another file in place of " + file + ", and root would act on it: chmod go-w " + d;
            }
            if (this == PROFILES_NOT_OWNED_BY_ROOT) {
                Object before = Files.getAttribute(d, "unix:uid");
                Files.setAttribute(d, "unix:uid", 65534);
                undo.add(() -> quietly(() -> Files.setAttribute(d, "unix:uid", before)));
                return d + " is owned by uid 65534; whoever owns a directory above " + file
                        + " can put another file in its place, and root would act on it: chown root:root " + d;
            }
            // the directory moved aside and a link to an attacker's copy (with a usable profile) in its place
            Path aside = d.resolveSibling(d.getFileName() + ".aside");
            Path attackers = Files.createDirectories(dir.resolve("attackers").resolve(d.getFileName()));
            Path theirs = attackers.resolve(this == PROFILES_A_SYMLINK ? "tiny.yaml" : "profiles/tiny.yaml");
            Files.createDirectories(theirs.getParent());
            Files.writeString(theirs, TreeHosts.TINY_PROFILE);
            Files.move(d, aside);
            Files.createSymbolicLink(d, attackers);
            undo.add(() -> quietly(() -> {
                Files.delete(d);
                Files.move(aside, d);
                deleteTree(dir.resolve("attackers"));
            }));
            return d + " is a symlink, on the way to " + file + "; refusing to follow it. Put the directory itself there";
        }
    }

    interface IoAction {
        void run() throws IOException;
    }

    static void quietly(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(UnsafeProfileDirectory.class)
    void aProfileInAnUnsafeDirectoryIsRefusedLikeSudoDoes(UnsafeProfileDirectory how) throws Exception {
        kind = "profile directories";
        Requires.that(isRoot() || how != UnsafeProfileDirectory.PROFILES_NOT_OWNED_BY_ROOT, "needs root: chown");
        List<Runnable> undo = new ArrayList<>();
        try {
            String why = how.apply(root, undo);
            setUpDone();
            assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
            assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                    "hook prepare");
            assertResult(hook("", "tiny", "started", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                    "hook started");
            assertResult(hook("", "tiny", "release", "end", "-"), 0, "", "hook release");
            assertNothingChanged(how.name());
        } finally {
            for (Runnable u : undo) {
                u.run();
            }
            baseline = pristine; // the tree as it was before the damage, which the check after each test compares with
        }
    }

    // ---------------------------------------------------------------- state

    /** How the state directory or a file in it is made hostile; the decoy must survive. */
    enum HostileState {
        STATE_DIR_SYMLINK, STATE_DIR_A_FILE, STATE_DIR_FOREIGN_OWNER, STATE_DIR_WORLD_WRITABLE, STATE_DIR_GROUP_WRITABLE,
        LOCK_SYMLINK, LOCK_DANGLING_SYMLINK, LOCK_FIFO, JOURNAL_SYMLINK, JOURNAL_FIFO, JOURNAL_DIRECTORY, TEMP_FILE_SYMLINK,
        TEMP_FILE_DANGLING_SYMLINK, TEMP_FILE_HARD_LINK;

        /** Sets it up; returns the message, or null where the first journal write fails instead (see below). */
        String apply(Path state, Path decoy) throws IOException {
            String where = state.toString();
            Files.createDirectories(state.getParent());
            if (!name().startsWith("STATE_DIR")) {
                Files.createDirectory(state, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            switch (this) {
                case STATE_DIR_SYMLINK -> {
                    Files.createSymbolicLink(state, decoy.resolveSibling("decoy-state"));
                    return where + " is a symlink; refusing to follow it. Remove it; the tool recreates it as a private directory";
                }
                case STATE_DIR_A_FILE -> {
                    Files.writeString(state, "");
                    return where + " is not a directory; refusing to follow it. Remove it; the tool recreates it as a private directory";
                }
                case STATE_DIR_FOREIGN_OWNER -> {
                    Files.createDirectory(state, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    Files.setAttribute(state, "unix:uid", 65534);
                    return where + " is owned by uid 65534 with mode 700; it must be ours (uid 0) and not writable by others:"
                            + " chown root:root and chmod 700 it";
                }
                case STATE_DIR_WORLD_WRITABLE, STATE_DIR_GROUP_WRITABLE -> {
                    String mode = this == STATE_DIR_WORLD_WRITABLE ? "rwxrwxrwx" : "rwxrwx---";
                    Files.createDirectory(state);
                    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString(mode));
                    return where + " is owned by uid 0 with mode " + (this == STATE_DIR_WORLD_WRITABLE ? "777" : "770")
                            + "; it must be ours (uid 0) and not writable by others: chown root:root and chmod 700 it";
                }
                case LOCK_SYMLINK -> {
                    Files.createSymbolicLink(state.resolve("lock"), decoy);
                    return where + "/lock is a symlink; refusing to follow it. Remove it";
                }
                case LOCK_DANGLING_SYMLINK -> {
                    Files.createSymbolicLink(state.resolve("lock"), decoy.resolveSibling("created-through-the-link"));
                    return where + "/lock is a symlink; refusing to follow it. Remove it";
                }
                case LOCK_FIFO -> {
                    mkfifo(state.resolve("lock"));
                    return where + "/lock is not a regular file (a pipe, socket or device); refusing it. Remove it";
                }
                case JOURNAL_SYMLINK -> {
                    Files.createSymbolicLink(state.resolve("journal.json"), decoy);
                    return where + "/journal.json is a symlink; refusing to follow it. Remove it";
                }
                case JOURNAL_FIFO -> {
                    mkfifo(state.resolve("journal.json"));
                    return where + "/journal.json is not a regular file (a pipe, socket or device); refusing it. Remove it";
                }
                case JOURNAL_DIRECTORY -> {
                    Files.createDirectory(state.resolve("journal.json"));
                    return where + "/journal.json is not a regular file (a directory); refusing it. Remove it";
                }
                case TEMP_FILE_SYMLINK -> {
                    Files.createSymbolicLink(state.resolve(".journal.json.tmp"), decoy);
                    return null;
                }
                case TEMP_FILE_DANGLING_SYMLINK -> {
                    Files.createSymbolicLink(state.resolve(".journal.json.tmp"), decoy.resolveSibling("created-through-the-link"));
                    return null;
                }
                default -> {
                    Files.createLink(state.resolve(".journal.json.tmp"), decoy);
                    return null;
                }
            }
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(HostileState.class)
    void hostileStateIsRefusedAndNeverFollowed(HostileState how) throws Exception {
        kind = "state files";
        Requires.that(isRoot() || how != HostileState.STATE_DIR_FOREIGN_OWNER, "needs root: chown");
        Path state = root.resolve("run/vfio-orchestrator");
        String why = how.apply(state, victim);
        if (why == null) {
            // the atomic write's temp file is planted: created exclusively (O_EXCL, O_NOFOLLOW), so never written
            // through; the write fails before any change
            String planted = how == HostileState.TEMP_FILE_HARD_LINK ? "a hard link to another file (2 links)" : "a symlink";
            String failed = "could not write the journal " + state + "/journal.json: /run/vfio-orchestrator/.journal.json.tmp: is "
                    + planted + "; refusing to write through it. Remove it (rm " + state + "/.journal.json.tmp) and try again."
                    + " Nothing was changed.";
            assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + failed + "\n", "apply");
            assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + failed + "\n",
                    "hook prepare");
            assertTrue(!Files.exists(victim.resolveSibling("created-through-the-link")), "nothing created through a dangling link");
            return;
        }
        assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
        assertResult(cli("revert", "tiny"), 1, "vfio-orchestrator revert: " + why + "\n", "revert");
        assertResult(cli("revert", "--all"), 1, "vfio-orchestrator revert: " + why + "\n", "revert --all");
        assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                "hook prepare");
        assertResult(hook("", "tiny", "release", "end", "-"), 0, "", "hook release");
        assertTrue(!Files.exists(victim.resolveSibling("created-through-the-link")), "nothing created through a dangling link");
    }

    // ---------------------------------------------------------------- host tree (--host-root)

    /**
     * A host tree whose file or directory is a symlink out of the tree, to a copy outside: nothing reads or writes
     * through it (the copy keeps its content, nothing is created there) and every command names the link.
     */
    enum LinkOut {
        IRQ_DIRECTORY("proc/irq/0", "/proc/irq/0/smp_affinity_list"),
        IRQ_FILE("proc/irq/1/smp_affinity_list", "/proc/irq/1/smp_affinity_list"),
        CGROUP_DIRECTORY("sys/fs/cgroup/user.slice", "/sys/fs/cgroup/user.slice"),
        GOVERNOR_FILE("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor"),
        STATE_PARENT("run", "/run/vfio-orchestrator");

        final String link;
        final String named;

        LinkOut(String link, String named) {
            this.link = link;
            this.named = named;
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(LinkOut.class)
    void aSymlinkOutOfTheHostTreeIsNeverFollowed(LinkOut how) throws Exception {
        kind = "host tree links";
        Path inTree = root.resolve(how.link);
        Path outside = dir.resolve("outside").resolve(how.name());
        Files.createDirectories(outside.getParent());
        boolean existed = Files.exists(inTree);
        if (existed) {
            Files.move(inTree, outside);
        } else {
            Files.createDirectories(outside);
        }
        TreeSnapshot outsideBefore = TreeSnapshot.of(outside.getParent());
        Files.createSymbolicLink(inTree, inTree.getParent().relativize(outside));
        try {
            setUpDone();
            String why = how.named + ": leads out of the host tree " + root + " through a symlink (to "
                    + outside.toRealPath() + how.named.substring(("/" + how.link).length()) + "); refusing to follow it."
                    + " Remove the link from the tree";
            assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
            assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                    "hook prepare");
            assertResult(hook("", "tiny", "release", "end", "-"), 0, "", "hook release");
            assertEquals(List.of(), outsideBefore.differences(TreeSnapshot.of(outside.getParent())), "outside the tree");
            assertNothingChanged("a link out of the tree at " + how.link);
        } finally {
            Files.delete(inTree);
            if (existed) {
                Files.move(outside, inTree);
            } else {
                deleteTree(outside);
            }
            setUpDone();
        }
    }

    @Test
    void aSymlinkInPlaceOfTheShimsMarkersIsRefusedAndNeverFollowed() throws Exception {
        kind = "state files";
        Path state = Files.createDirectories(root.resolve("run/vfio-orchestrator"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createSymbolicLink(state.resolve("applied"), dir.resolve("decoy-state"));
        String why = state + "/applied is a symlink; refusing to follow it. Remove it; the tool recreates it as a private"
                + " directory";
        assertResult(cli("apply", "tiny"), 1, "vfio-orchestrator apply: " + why + "\n", "apply");
        assertResult(hook("", "tiny", "prepare", "begin", "-"), 1, "vfio-orchestrator: VM tiny not started: " + why + "\n",
                "hook prepare");
    }

    // ---------------------------------------------------------------- hook argv

    static Stream<Arguments> badHookArgv() {
        String usage = "vfio-orchestrator hook: expected 'VM OPERATION SUB-OPERATION [EXTRA]' (libvirt's hook arguments), got ";
        return Stream.of(
                Arguments.of(List.of(), 2, usage + "0 arguments\n"),
                Arguments.of(List.of("tiny"), 2, usage + "1 arguments\n"),
                Arguments.of(List.of("tiny", "prepare"), 2, usage + "2 arguments\n"),
                Arguments.of(List.of("tiny", "prepare", "begin", "-", "extra"), 2, usage + "5 arguments\n"),
                Arguments.of(List.of("tiny", "prepare", "begin", "-", "x", "y", "z"), 2, usage + "7 arguments\n"),
                Arguments.of(List.of("tiny", "frobnicate", "begin", "-"), 0, ""),
                Arguments.of(List.of("tiny", "prepare", "end", "-"), 0, ""),
                Arguments.of(List.of("tiny", "PREPARE", "BEGIN", "-"), 0, ""),
                Arguments.of(List.of("tiny", "", "", ""), 0, ""),
                Arguments.of(List.of("tiny", "stopped", "end", "shutdown", ""), 2, usage + "5 arguments\n"));
    }

    @ParameterizedTest
    @MethodSource("badHookArgv")
    void hookArgvThatIsNotLibvirtsIsRefusedOrIgnored(List<String> argv, int code, String err) throws IOException {
        kind = "hook argv";
        assertResult(hook("", argv.toArray(new String[0])), code, err, String.valueOf(argv));
    }

    @Test
    void hookWithOnlyTheRootOptionIsAUsageError() throws IOException {
        kind = "hook argv";
        StringWriter err = new StringWriter();
        int code = HookMain.run(new PrintWriter(err), new ByteArrayInputStream(new byte[0]), List.of("--host-root"));
        assertEquals("vfio-orchestrator hook: expected 'VM OPERATION SUB-OPERATION [EXTRA]' (libvirt's hook arguments), got 1"
                + " arguments\n", err.toString());
        assertEquals(2, code);
        tried++;
    }

    // ---------------------------------------------------------------- domain XML from libvirt

    static Stream<Arguments> badDomainXml() {
        String from = "vfio-orchestrator: VM tiny not started: the domain XML from libvirt";
        String enormous = "<domain><name>tiny</name><vcpu>2</vcpu>" + "<!-- padding -->".repeat(300_000) + "</domain>";
        return Stream.of(
                Arguments.of("<domain><name>tiny</name>", from + " line 1: malformed XML: XML document structures must start and end within the same"
                        + " entity\n"),
                Arguments.of("<!DOCTYPE domain [<!ENTITY x SYSTEM \"file://" + "VICTIM" + "\">]><domain><name>&x;</name></domain>",
                        from + " line 1: a DOCTYPE is not allowed in a domain XML (libvirt never writes one, and it can smuggle in"
                                + " entities); remove it\n"),
                Arguments.of("<?xml version='1.0'?>\n<!DOCTYPE domain SYSTEM \"file://VICTIM\">\n<domain><name>tiny</name></domain>",
                        from + " line 2: a DOCTYPE is not allowed in a domain XML (libvirt never writes one, and it can smuggle in"
                                + " entities); remove it\n"),
                Arguments.of("<domain><name>tiny</name>" + "<x>".repeat(200) + "</x>".repeat(200) + "</domain>",
                        from + " line 1: elements nested more than 100 deep; a libvirt domain XML is a few levels deep, is this the"
                                + " right file?\n"),
                Arguments.of("<domain><name>tiny</name><vcpu>two</vcpu></domain>", from + ": <vcpu>two</vcpu>: not a whole number\n"),
                Arguments.of("<network><name>tiny</name></network>", from + ": not a libvirt domain XML: the root element is"
                        + " <network>, expected <domain>\n"),
                Arguments.of(enormous, from + ": " + enormous.length() + " bytes is larger than the 4194304 bytes a domain XML may"
                        + " have; is this the right file?\n"));
    }

    @ParameterizedTest
    @MethodSource("badDomainXml")
    void badDomainXmlFromLibvirtStopsTheStartAndChangesNothing(String xml, String err) throws IOException {
        kind = "domain XML";
        xml = xml.replace("VICTIM", victim.toString());
        Result r = hook(xml, "tiny", "prepare", "begin", "-");
        assertResult(r, 1, err, xml.substring(0, Math.min(60, xml.length())));
        assertTrue(!r.err().contains("precious"), "the entity's file is never read");
    }

    // ---------------------------------------------------------------- helpers

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static void mkfifo(Path p) throws IOException {
        try {
            Process proc = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
            if (proc.waitFor() != 0) {
                throw new IOException("mkfifo " + p + " failed: " + new String(proc.getInputStream().readAllBytes()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(p)) {
                for (Path c : s.toList()) {
                    deleteTree(c);
                }
            }
        }
        Files.delete(p);
    }
}
