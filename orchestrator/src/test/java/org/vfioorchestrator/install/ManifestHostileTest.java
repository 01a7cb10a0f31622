package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.Requires;
import org.vfioorchestrator.testing.Tally;

/**
 * Uninstall runs as root and removes what the manifest lists, so the manifest is hostile input: a
 * file someone else could write, a step naming a file install never writes, a path that leaves its
 * directory. Each case is tried on a real install (in a {@code --root} tree, with a decoy
 * {@code /etc/shadow} and a payload ready to move into {@code /etc/cron.d}) through {@code uninstall}
 * and {@code install}, as a user types them: one clear line, exit 1, and the tree byte for byte as it
 * was (decoys included). Then the checks on what a trusted manifest's steps find on disk.
 */
// in a thread of its own: a FIFO opened by mistake blocks in native code, which no interrupt ends
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ManifestHostileTest {
    static final Tally TALLY = new Tally("ManifestHostileTest");
    static final String SHADOW = "root:$6$decoy$notarealhash:19000:0:99999:7:::\n";
    static final String CRON_PAYLOAD = "* * * * * root /tmp/own-the-host\n";
    static final String SUFFIX = ". Nothing was changed; if nobody edited it by hand, find out who did. To clean up by hand:"
            + " remove what README's 'Installing the hook' lists, then this file";

    @TempDir
    Path dir;
    InstallTree tree;
    Path manifest;

    @BeforeEach
    void setUp() throws IOException {
        tree = new InstallTree(dir, "root");
        CliRun installed = tree.install("--libvirt-version", "9.0.0");
        assertEquals(0, installed.code(), installed.err());
        manifest = tree.path("etc/vfio-orchestrator/install.manifest");
        Files.writeString(tree.path("etc/shadow"), SHADOW);
        Files.createDirectories(tree.path("etc/cron.d"));
        Files.createDirectories(tree.path("tmp"));
        Files.writeString(tree.path("tmp/payload"), CRON_PAYLOAD);
    }

    @AfterAll
    static void report() {
        TALLY.print();
    }

    static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    Map<String, Object> manifestJson() throws IOException {
        return JSON.std.mapFrom(Files.readString(manifest));
    }

    /** Appends a step to the manifest (its owner and mode kept); returns its number in the list. */
    int addStep(Map<String, Object> step) throws IOException {
        Map<String, Object> m = manifestJson();
        @SuppressWarnings("unchecked")
        List<Object> steps = new ArrayList<>((List<Object>) m.get("steps"));
        steps.add(step);
        m.put("steps", steps);
        Files.writeString(manifest, JSON.std.asString(m));
        return steps.size();
    }

    static void mkfifo(Path p) {
        assertEquals(0, CommandRunner.system().run(List.of("mkfifo", p.toString()), java.time.Duration.ofSeconds(10)).exitCode());
    }

    static Map<String, Object> step(String... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A manifest made untrustworthy, and the line that refuses it ({M}: the manifest, {R}: the root). */
    enum Hostile {
        /** The reproducer: nobody's, mode 666, with /etc/shadow added as an archive. */
        NOBODY_666_ARCHIVE_OF_SHADOW(true) {
            String apply(ManifestHostileTest t) throws Exception {
                t.addStep(step("action", "ARCHIVE", "path", "/etc/shadow"));
                Files.setPosixFilePermissions(t.manifest, PosixFilePermissions.fromString("rw-rw-rw-"));
                Files.setAttribute(t.manifest, "unix:uid", 65534);
                return "{M} is owned by uid 65534; uninstall removes what it lists, as root, so it must belong to root:"
                        + " chown root:root {M}";
            }
        },
        WORLD_WRITABLE(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.setPosixFilePermissions(t.manifest, PosixFilePermissions.fromString("rw-rw-rw-"));
                return "{M} can be written by group or others (mode 666); anyone could change what root does: chmod 644 {M}";
            }
        },
        GROUP_WRITABLE(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.setPosixFilePermissions(t.manifest, PosixFilePermissions.fromString("rw-rw-r--"));
                return "{M} can be written by group or others (mode 664); anyone could change what root does: chmod 644 {M}";
            }
        },
        SYMLINK(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Path elsewhere = t.dir.resolve("elsewhere.manifest"); // outside the tree, where an attacker writes
                Files.copy(t.manifest, elsewhere);
                Files.delete(t.manifest);
                Files.createSymbolicLink(t.manifest, elsewhere);
                return "{M} is a symlink; refusing it (uninstall removes what it lists, as root): it must be the file itself";
            }
        },
        FIFO(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.delete(t.manifest);
                mkfifo(t.manifest);
                return "{M} is not a regular file (a directory, pipe, socket or device); refusing it (uninstall removes what"
                        + " it lists, as root)";
            }
        },
        DIRECTORY(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.delete(t.manifest);
                Files.createDirectory(t.manifest);
                return "{M} is not a regular file (a directory, pipe, socket or device); refusing it (uninstall removes what"
                        + " it lists, as root)";
            }
        },
        CONFIG_DIR_NOT_ROOTS(true) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.setAttribute(t.tree.path("etc/vfio-orchestrator"), "unix:uid", 65534);
                return "{R}/etc/vfio-orchestrator is owned by uid 65534; whoever owns a directory above {M} can put another"
                        + " file in its place, and root would act on it: chown root:root {R}/etc/vfio-orchestrator";
            }
        },
        CONFIG_DIR_SYMLINK(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Path config = t.tree.path("etc/vfio-orchestrator");
                Path elsewhere = t.dir.resolve("elsewhere");
                Files.move(config, elsewhere);
                Files.createSymbolicLink(config, elsewhere);
                return "{R}/etc/vfio-orchestrator is a symlink, on the way to {M}; refusing to follow it. Put the directory"
                        + " itself there";
            }
        },
        TOO_LARGE(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.writeString(t.manifest, " ".repeat(2 << 20) + "{}");
                return "{M}: refusing the install manifest: it has 2097154 bytes, and a manifest is a few KiB. Nothing was"
                        + " changed";
            }
        },
        PREFIX_WITH_DOT_DOT(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Map<String, Object> m = t.manifestJson();
                m.put("prefix", "/usr/local/../../etc");
                Files.writeString(t.manifest, JSON.std.asString(m));
                return refused("'prefix' is not an absolute directory spelled plainly: /usr/local/../../etc");
            }
        },
        DUPLICATE_KEY(false) {
            String apply(ManifestHostileTest t) throws Exception {
                String text = Files.readString(t.manifest);
                Files.writeString(t.manifest, text.replaceFirst("\\{", "{\"prefix\" : \"/etc\","));
                return "{M}: refusing the install manifest: it is not JSON: Duplicate key";
            }
        },
        NOT_JSON(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Files.writeString(t.manifest, "{\"version\": 2, \"steps\": [");
                return "{M}: refusing the install manifest: it is not JSON: ";
            }
        },
        FUTURE_VERSION(false) {
            String apply(ManifestHostileTest t) throws Exception {
                Map<String, Object> m = t.manifestJson();
                m.put("version", 99);
                Files.writeString(t.manifest, JSON.std.asString(m));
                return refused("it has version 99, this tool reads 1 to 2");
            }
        };

        final boolean needsRoot;

        Hostile(boolean needsRoot) {
            this.needsRoot = needsRoot;
        }

        /** Makes the manifest hostile; returns the refusal ({M}: the manifest, {R}: the root), or the start of it. */
        abstract String apply(ManifestHostileTest t) throws Exception;

        static String refused(String why) {
            return "{M}: refusing the install manifest: " + why + SUFFIX;
        }
    }

    static final String NOT_INSTALLS = " is not something install does with prefix '/usr/local', hook directory"
            + " /etc/libvirt/hooks and placement HOOK_DIR";
    static final String NOT_PLAIN = " is not an absolute path spelled plainly (no '.', '..' or '//')";

    /** A step added to a manifest only root can write (so only the step is wrong), and why it is refused. */
    enum ForeignStep {
        /** The reproducer with the manifest root's: the step alone is refused. */
        ARCHIVE_OF_SHADOW(" (ARCHIVE /etc/shadow)" + NOT_INSTALLS, "action", "ARCHIVE", "path", "/etc/shadow"),
        /** Its hash matches, so only the allow-list stops it. */
        FILE_SHADOW_WITH_ITS_HASH(" (FILE /etc/shadow)" + NOT_INSTALLS, "action", "FILE", "path", "/etc/shadow",
                "sha256", "SHADOW"),
        /** Undoing it would move the payload into /etc/cron.d. */
        MOVE_INTO_CRON_D(" (MOVE /etc/cron.d/vfio -> /tmp/payload)" + NOT_INSTALLS, "action", "MOVE",
                "path", "/etc/cron.d/vfio", "to", "/tmp/payload"),
        /** A move install does make, but only when it chains a foreign hooks/qemu, not with qemu.d. */
        MOVE_WITHOUT_CHAINING(" (MOVE /etc/libvirt/hooks/qemu -> /etc/libvirt/hooks/qemu.orig)" + NOT_INSTALLS,
                "action", "MOVE", "path", "/etc/libvirt/hooks/qemu", "to", "/etc/libvirt/hooks/qemu.orig"),
        /** An empty directory install never made (rmdir would take it). */
        MKDIR_CRON_D(" (MKDIR /etc/cron.d)" + NOT_INSTALLS, "action", "MKDIR", "path", "/etc/cron.d"),
        /** Resolves to /etc/shadow inside the tree, hash and all. */
        DOT_DOT_INSIDE(" (FILE /usr/local/bin/../../../etc/shadow)" + NOT_PLAIN, "action", "FILE",
                "path", "/usr/local/bin/../../../etc/shadow", "sha256", "SHADOW"),
        /** Leaves the tree: an internal error with a stack trace before. */
        DOT_DOT_ESCAPING(" (FILE /../../../../../../tmp/x)" + NOT_PLAIN, "action", "FILE", "path", "/../../../../../../tmp/x",
                "sha256", "SHADOW"),
        DOUBLE_SLASH(" (ARCHIVE /usr/local/lib/vfio-orchestrator//vfio-orchestrator.jsa)" + NOT_PLAIN, "action", "ARCHIVE",
                "path", "/usr/local/lib/vfio-orchestrator//vfio-orchestrator.jsa"),
        NUL_IN_PATH(" (ARCHIVE /usr/local/lib/vfio-orchestrator/vfio-orchestrator.jsa?x)" + NOT_PLAIN, "action", "ARCHIVE",
                "path", "/usr/local/lib/vfio-orchestrator/vfio-orchestrator.jsa\0x"),
        UNKNOWN_ACTION(": action is CHMOD, not one of [MKDIR, FILE, MOVE, ARCHIVE]", "action", "CHMOD", "path", "/etc/shadow"),
        UNKNOWN_KEY(": unknown key 'mode'", "action", "FILE", "path", "/usr/local/bin/vfio-orchestrator", "sha256", "SHADOW",
                "mode", "4755"),
        FILE_WITHOUT_HASH(": 'sha256' is not a sha256 (64 hex digits): null", "action", "FILE",
                "path", "/usr/local/bin/vfio-orchestrator");

        final String why;
        final String[] keysAndValues;

        ForeignStep(String why, String... keysAndValues) {
            this.why = why;
            this.keysAndValues = keysAndValues;
        }
    }

    @ParameterizedTest
    @EnumSource(Hostile.class)
    void aManifestSomeoneElseCouldWriteIsRefusedAndNothingChanges(Hostile how) throws Exception {
        Requires.that(Requires.isRoot() || !how.needsRoot, "needs root: chown");
        refusedAndNothingChanged(how.apply(this));
    }

    /** Whoever may write a directory above the manifest may replace it: here, there, and the root itself. */
    @ParameterizedTest
    @CsvSource({"/etc/vfio-orchestrator, rwxrwxrwx, 777", "/etc, rwxrwxrwx, 777", "'', rwxrwxr-x, 775"})
    void aDirectoryAboveTheManifestOthersMayWriteIsRefused(String dir, String permissions, String mode) throws Exception {
        Files.setPosixFilePermissions(Path.of(tree.root + dir), PosixFilePermissions.fromString(permissions));
        refusedAndNothingChanged("{R}" + dir + " can be written by group or others (mode " + mode + "); anyone could put"
                + " another file in place of {M}, and root would act on it: chmod go-w {R}" + dir);
    }

    @ParameterizedTest
    @EnumSource(ForeignStep.class)
    void aStepInstallNeverTakesIsRefusedAndNothingChanges(ForeignStep how) throws Exception {
        Map<String, Object> step = step(how.keysAndValues);
        if ("SHADOW".equals(step.get("sha256"))) {
            step.put("sha256", sha256(SHADOW));
        }
        int n = addStep(step);
        refusedAndNothingChanged(Hostile.refused("step " + n + how.why));
    }

    /** Both commands that read the manifest refuse it with {@code why} ({M}: the manifest, {R}: the root), changing nothing. */
    void refusedAndNothingChanged(String expected) throws Exception {
        String why = expected.replace("{M}", manifest.toString()).replace("{R}", tree.root.toString());
        Map<String, String> before = tree.snapshot();
        for (String command : List.of("uninstall", "install")) {
            TALLY.add("bad manifests tried");
            CliRun r = command.equals("uninstall") ? tree.uninstall() : tree.install("--libvirt-version", "9.0.0");
            boolean asPromised = r.code() == 1 && r.out().isEmpty() && r.err().startsWith("vfio-orchestrator " + command + ": " + why)
                    && r.err().indexOf('\n') == r.err().length() - 1 && tree.snapshot().equals(before);
            if (!asPromised) {
                TALLY.add("state lost");
            }
            assertEquals(1, r.code(), command + ": " + r.out() + r.err());
            assertEquals("", r.out(), command);
            assertTrue(r.err().startsWith("vfio-orchestrator " + command + ": " + why), command + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace");
            assertEquals(before, tree.snapshot(), command + " changed the tree");
        }
        assertEquals(SHADOW, Files.readString(tree.path("etc/shadow")));
        assertEquals(CRON_PAYLOAD, Files.readString(tree.path("tmp/payload")));
        assertFalse(Files.exists(tree.path("etc/cron.d/vfio")));
    }

    // ---- a trusted manifest whose files changed on disk ----

    static final String ARCHIVE = "usr/local/lib/vfio-orchestrator/vfio-orchestrator.jsa";

    /** An archive step as a live install records it (a --root install writes none). */
    void archiveStep(String recordedContent) throws Exception {
        addStep(step("action", "ARCHIVE", "path", "/" + ARCHIVE, "sha256", sha256(recordedContent), "jarSha256", sha256("jar")));
    }

    @Test
    void theArchiveIsRemovedWhenItIsWhatInstallWroteOrACdsArchive() throws Exception {
        archiveStep("what install wrote");
        Files.writeString(tree.path(ARCHIVE), "what install wrote");
        CliRun r = tree.uninstall();
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("removed " + tree.path(ARCHIVE) + " (class-data-sharing archive)\n"), r.out());

        setUp(); // again, now rewritten by 'cds-archive' since (HotSpot's dynamic archive header)
        archiveStep("what install wrote");
        Files.write(tree.path(ARCHIVE), new byte[] {(byte) 0xa8, (byte) 0xab, 0x0b, (byte) 0xf0, 0x11, 0, 0, 0});
        r = tree.uninstall();
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(Files.exists(tree.path(ARCHIVE)));
    }

    @Test
    void anArchiveStepNeverRemovesAnythingElse() throws Exception {
        archiveStep("what install wrote");
        Files.writeString(tree.path(ARCHIVE), SHADOW);
        CliRun r = tree.uninstall();
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("kept " + tree.path(ARCHIVE) + ": it is not the class-data-sharing archive install or"
                + " cds-archive wrote; look at it and remove it by hand\n"), r.out());
        assertEquals(SHADOW, Files.readString(tree.path(ARCHIVE)));
    }

    @Test
    void anInstalledFileReplacedByASymlinkIsKeptAndWhatItPointsAtIsUntouched() throws Exception {
        Path launcher = tree.path("usr/local/bin/vfio-orchestrator");
        Path decoy = dir.resolve("decoy");
        Files.copy(launcher, decoy); // the same bytes: a read through the link would find the hash install recorded
        Files.delete(launcher);
        Files.createSymbolicLink(launcher, decoy);
        CliRun r = tree.uninstall();
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("kept " + launcher + ": it is no longer the file install wrote (now a symlink, directory"
                + " or special file); look at it and remove it by hand\n"), r.out());
        assertTrue(Files.isSymbolicLink(launcher));
        assertTrue(Files.isRegularFile(decoy));
    }
}
