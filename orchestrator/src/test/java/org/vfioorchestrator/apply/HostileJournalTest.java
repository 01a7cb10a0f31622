package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfioorchestrator.hook.HookMain;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.Tally;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * A journal whose checksum is right but whose content is not what this tool writes: made by an older
 * version with a bug, or by someone with root who edited it and fixed the checksum. An entry that is not
 * valid is refused and never restored, the others are restored; a journal whose own fields are missing or
 * ill-typed is refused whole with exit 3, and nothing changes. Never a stack trace.
 */
class HostileJournalTest {
    static final Tally TALLY = new Tally("HostileJournalTest");
    private static final String WRITES_ONLY = "(it writes only under /sys/fs/cgroup/, /proc/irq/, /sys/devices/system/cpu/,"
            + " /sys/devices/virtual/workqueue/)";

    @TempDir
    Path dir;
    Path root;
    Path journal;
    TreeSnapshot pristine;
    TreeSnapshot applied;

    @AfterAll
    static void report() {
        TALLY.print();
    }

    /** The tiny host with VM tiny applied, and a decoy /etc/passwd a hostile entry aims at. */
    @BeforeEach
    void applyTiny() throws Exception {
        root = TreeHosts.generate(TreeHosts.tiny(HostSpec.Cgroup.V2), dir);
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "x\n");
        Path profile = root.resolve("etc/vfio-orchestrator/profiles/tiny.yaml");
        Files.createDirectories(profile.getParent());
        Files.writeString(profile, TreeHosts.TINY_PROFILE);
        pristine = TreeSnapshot.of(root);
        assertEquals(0, cli("apply", "tiny").code());
        journal = root.resolve(JournalStore.JOURNAL.substring(1));
        applied = TreeSnapshot.of(root);
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--host-root", root.toString()));
        return CliRun.run(all.toArray(new String[0]));
    }

    private CliRun hook(String... argv) {
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--host-root", root.toString()));
        all.addAll(List.of(argv));
        int code = HookMain.run(new PrintWriter(err), new ByteArrayInputStream(new byte[0]), all);
        return new CliRun(code, "", err.toString());
    }

    /** Rewrites the journal's JSON as {@code how} says, with a checksum that matches, as root could; what it returns. */
    private int tamper(Tampering how) throws Exception {
        String text = Files.readString(journal);
        Map<String, Object> body = JSON.std.mapFrom(text.substring(text.indexOf('\n') + 1));
        int entry = how.edit().apply(body);
        String json = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(body) + "\n";
        Files.writeString(journal, "# vfio-orchestrator journal v2 crc32c=" + JournalStore.crc32c(json) + "\n" + json);
        return entry;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> entries(Map<String, Object> body) {
        return (List<Object>) body.get("entries");
    }

    private static Map<String, Object> entry(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /**
     * One way to damage the journal's JSON: {@code edit} changes it and returns the number (from 1) of the entry it
     * damaged, or 0 for the journal's own fields; {@code why} is how the tool names the damage.
     */
    record Tampering(String name, Function<Map<String, Object>, Integer> edit, String why) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Adds an entry at the end (restored first); its number. */
    private static Tampering adding(String name, Object entry, String why) {
        return new Tampering(name, body -> {
            entries(body).add(entry);
            return entries(body).size();
        }, why);
    }

    /** Damages the first entry of {@code type} (for a write, the one of IRQ 0); its number. */
    @SuppressWarnings("unchecked")
    private static Tampering damaging(String name, String type, Consumer<Map<String, Object>> damage, String why) {
        return new Tampering(name, body -> {
            List<Object> entries = entries(body);
            for (int i = 0; i < entries.size(); i++) {
                Map<String, Object> e = (Map<String, Object>) entries.get(i);
                if (e.get("type").equals(type) && (type.equals("PIN_THREAD") || e.get("path").equals("/proc/irq/0/smp_affinity_list"))) {
                    damage.accept(e);
                    return i + 1;
                }
            }
            throw new AssertionError("no " + type + " entry to damage");
        }, why);
    }

    /** An entry the tool never writes, or a good one damaged. */
    static Stream<Tampering> badEntries() {
        return Stream.of(
                adding("/etc/passwd", entry("type", "WRITE", "path", "/etc/passwd", "original", "root:x:0:0::/root:/bin/sh",
                        "expected", "x", "format", "TEXT", "vm", "tiny"),
                        " (WRITE /etc/passwd): /etc/passwd is not a file this tool writes " + WRITES_ONLY),
                adding("a path with ..", entry("type", "WRITE", "path", "/sys/fs/cgroup/../../etc/passwd", "original", "owned",
                        "expected", "x", "format", "TEXT", "vm", "tiny"),
                        " (WRITE /sys/fs/cgroup/../../etc/passwd): '/sys/fs/cgroup/../../etc/passwd' is not a plain absolute"
                                + " path (no '..', '.', '//' or trailing '/')"),
                adding("a pin outside /proc", entry("type", "PIN_THREAD", "path", "/etc/passwd", "original", "0-3", "expected",
                        "1", "vm", "tiny", "tid", 1, "startTime", 0, "label", "CPU 0/KVM"),
                        " (PIN_THREAD /etc/passwd): a pin of thread 1 is at /proc/PID/task/1, not /etc/passwd"),
                adding("an unknown type", entry("type", "FORMAT_DISK", "path", "/dev/sda", "vm", "tiny"),
                        " (FORMAT_DISK /dev/sda): 'type' is 'FORMAT_DISK', which is none of WRITE, ENABLE_CONTROLLER,"
                                + " MAKE_CGROUP, MOVE_PROCESSES, PIN_THREAD and SET_UNIT_PROPERTY"),
                // a systemd drop-in is unit configuration: only AllowedCPUs of a slice or scope is ever restored
                adding("a service's ExecStart", entry("type", "SET_UNIT_PROPERTY", "path",
                        "/run/systemd/system.control/sshd.service.d/50-ExecStart.conf", "original", "", "expected", "0-1",
                        "vm", "tiny", "unit", "sshd.service", "property", "ExecStart"),
                        " (SET_UNIT_PROPERTY /run/systemd/system.control/sshd.service.d/50-ExecStart.conf): 'property' is"
                                + " 'ExecStart'; this tool sets only AllowedCPUs"),
                adding("a drop-in that runs a program", entry("type", "SET_UNIT_PROPERTY", "path",
                        "/run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf", "original", "", "expected", "0-1",
                        "vm", "tiny", "unit", "user.slice", "property", "AllowedCPUs",
                        "dropInBefore", "[Slice]\nAllowedCPUs=\n[Service]\nExecStartPre=/bin/sh -c 'id > /tmp/owned'\n"),
                        " (SET_UNIT_PROPERTY /run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf): 'dropInBefore' has a"
                                + " line this tool never restores: '[Service]'"),
                adding("a drop-in somewhere else", entry("type", "SET_UNIT_PROPERTY", "path", "/etc/systemd/system/user.slice.d/x.conf",
                        "original", "", "expected", "0-1", "vm", "tiny", "unit", "user.slice", "property", "AllowedCPUs"),
                        " (SET_UNIT_PROPERTY /etc/systemd/system/user.slice.d/x.conf): the drop-in of user.slice's AllowedCPUs is"
                                + " /run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf, not /etc/systemd/system/user.slice.d/x.conf"),
                adding("a unit name that climbs", entry("type", "SET_UNIT_PROPERTY", "path",
                        "/run/systemd/system.control/../x.slice.d/50-AllowedCPUs.conf", "original", "", "expected", "0-1",
                        "vm", "tiny", "unit", "../x.slice", "property", "AllowedCPUs"),
                        " (SET_UNIT_PROPERTY /run/systemd/system.control/../x.slice.d/50-AllowedCPUs.conf): '../x.slice' is not"
                                + " the name of a slice or scope"),
                adding("not an object", 42, ": not a JSON object"),
                adding("no type", entry("path", "/proc/irq/0/smp_affinity_list", "vm", "tiny"),
                        " (? /proc/irq/0/smp_affinity_list): 'type' is missing"),
                damaging("no format", "WRITE", e -> e.remove("format"),
                        " (WRITE /proc/irq/0/smp_affinity_list): 'format' is missing"),
                damaging("a tid that is a string", "PIN_THREAD", e -> e.put("tid", e.get("tid").toString()),
                        " (PIN_THREAD /proc/1784/task/1789): 'tid' is not a whole number"));
    }

    @ParameterizedTest
    @MethodSource("badEntries")
    void aBadEntryIsRefusedAndEveryOtherOneRestored(Tampering how) throws Exception {
        TALLY.add("hostile journals");
        TALLY.add("hostile journal: a bad entry");
        String refused = "entry " + tamper(how) + how.why();

        // starting a VM now could record a VM's value as a file's original: refused, nothing changed
        CliRun apply = cli("apply", "tiny");
        String applyRefused = "vfio-orchestrator apply: " + journal + ": refusing to change the host: the journal holds 1 entry"
                + " this tool never writes or cannot read (" + refused + "). Nothing was changed. Run 'vfio-orchestrator revert"
                + " --all': it restores everything else, reports these and drops them\n";
        assertEquals(applyRefused, apply.err());
        assertEquals(3, apply.code());
        CliRun prepare = hook("tiny", "prepare", "begin", "-");
        assertEquals(1, prepare.code(), prepare.err());
        assertTrue(prepare.err().startsWith("vfio-orchestrator: VM tiny not started: " + journal + ": refusing to change"), prepare.err());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)), "nothing changed");
        assertTrue(cli("status").out().contains("; REFUSED ENTRIES: it holds entries this tool never writes or cannot read, which"
                + " revert does not restore and drops: " + refused + "\n"), "status names it");

        CliRun revert = cli("revert", "tiny");
        assertEquals("revert: refused journal entry, not restored: " + refused + "\nrevert: the journal " + journal + " held"
                + " entries this tool never writes or cannot read; they are dropped from it. If a file they name was changed,"
                + " put it back by hand (a reboot resets every kernel setting)\n", revert.err());
        assertEquals(3, revert.code());
        // what the refused entry changed stays so; everything else is restored, and /etc/passwd never written
        List<String> left = switch (how.name()) {
            case "no format" -> List.of("changed: proc/irq/0/smp_affinity", "changed: proc/irq/0/smp_affinity_list");
            case "a tid that is a string" -> List.of("changed: proc/1784/task/1789/status");
            default -> List.of();
        };
        assertEquals(left, pristine.differences(TreeSnapshot.of(root)).stream().map(d -> d.substring(0, d.indexOf(": '"))).toList());
        assertTrue(!Files.exists(journal), "the journal is done: the refused entry is dropped with the rest");
    }

    /** A change to the journal's own fields, which nothing can be restored without. */
    private static Tampering changing(String name, Consumer<Map<String, Object>> change, String why) {
        return new Tampering(name, body -> {
            change.accept(body);
            return 0;
        }, why);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> vms(Map<String, Object> body) {
        return (Map<String, Object>) body.get("vms");
    }

    static Stream<Tampering> badJournals() {
        return Stream.of(
                changing("no bootId", body -> body.remove("bootId"), "its 'bootId' is missing"),
                changing("a bootId that is a number", body -> body.put("bootId", 42), "its 'bootId' is not a string"),
                changing("vms a list", body -> body.put("vms", List.of()), "its 'vms' is not a JSON object"),
                changing("a VM name that escapes", body -> vms(body).put("../../etc/x", vms(body).get("tiny")),
                        "its VM name '../../etc/x' is not supported: use letters, digits, '.', '_', '+' and '-' (at most 128,"
                                + " no '..')"),
                changing("a VM without its profile text", body -> ((Map<?, ?>) vms(body).get("tiny")).remove("profileText"),
                        "its 'vms' entry tiny lacks its profileSource, profileText or appliedAt"),
                changing("no entries", body -> body.remove("entries"), "its 'entries' is missing"),
                changing("entries an object", body -> body.put("entries", Map.of()), "its 'entries' is not a list"));
    }

    @ParameterizedTest
    @MethodSource("badJournals")
    void aJournalWithoutItsOwnFieldsIsRefusedWholeAndNothingChanges(Tampering how) throws Exception {
        TALLY.add("hostile journals");
        TALLY.add("hostile journal: its own fields");
        tamper(how);
        String refused = journal + ": refusing the journal: " + how.why() + ". It is the only record of what to restore, so"
                + " nothing was changed. Read it (it is JSON) and undo by hand what it lists, or reboot (every setting this tool"
                + " makes is reset at boot); then remove it.";
        for (String command : List.of("revert", "apply")) {
            CliRun r = cli(command, "tiny");
            assertEquals("vfio-orchestrator " + command + ": " + refused + "\n", r.err(), command);
            assertEquals(3, r.code(), command);
        }
        assertEquals("vfio-orchestrator: VM tiny not started: " + refused + "\n", hook("tiny", "prepare", "begin", "-").err());
        assertEquals(0, hook("tiny", "release", "end", "-").code());
        assertEquals(List.of(), applied.differences(TreeSnapshot.of(root)), "nothing changed");
    }
}
