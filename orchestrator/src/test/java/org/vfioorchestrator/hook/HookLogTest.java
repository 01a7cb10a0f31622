package org.vfioorchestrator.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.host.HostFs;

/** The hook log: opened once per call, every line on disk as it comes, never through a symlink. */
class HookLogTest {
    @TempDir
    Path root;

    private Path file() {
        return root.resolve(HookLog.FILE.substring(1));
    }

    @Test
    void eachLineIsInTheFileBeforeTheCallEnds() throws Exception {
        HookLog log = new HookLog(HostFs.open(root), "win11", "prepare begin", null);
        log.accept("set /proc/irq/45/smp_affinity_list: 6 -> 0-7");
        // a hook killed here (libvirt's timeout, an OOM) still leaves what it did in the log
        List<String> lines = Files.readAllLines(file());
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z win11 prepare begin: set /proc/irq/45/smp_affinity_list:"
                + " 6 -> 0-7"), lines.get(0));
        log.accept("two\nlines");
        log.finish();
        assertTrue(Files.readAllLines(file()).get(1).endsWith("win11 prepare begin: two lines"), "one line per action");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file())));

        HookLog next = new HookLog(HostFs.open(root), "win11", "release end", null);
        next.accept("restored 86 settings");
        next.finish();
        assertEquals(3, Files.readAllLines(file()).size(), "appended, not replaced");
    }

    @Test
    void aSymlinkWhereTheLogGoesIsNotFollowedAndTheHookCarriesOn() throws Exception {
        Path decoy = root.resolve("decoy");
        Files.writeString(decoy, "keep\n");
        Files.createDirectories(file().getParent());
        Files.createSymbolicLink(file(), decoy);
        HookLog log = new HookLog(HostFs.open(root), "win11", "prepare begin", null);
        log.accept("set something"); // must not throw: logging never fails the hook
        log.accept("set more");
        log.finish();
        assertEquals("keep\n", Files.readString(decoy));
    }

    @Test
    void syslogGetsEachLineAsItComesAndAGonePipeChangesNothingElse() throws Exception {
        java.io.ByteArrayOutputStream pipe = new java.io.ByteArrayOutputStream();
        HookLog log = new HookLog(HostFs.open(root), "win11", "prepare begin", pipe);
        log.accept("set a");
        assertEquals("win11 prepare begin: set a\n", pipe.toString(java.nio.charset.StandardCharsets.UTF_8));
        HookLog broken = new HookLog(HostFs.open(root), "win11", "started begin", new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe"); // logger exited
            }
        });
        broken.accept("pinned vCPU 0");
        broken.accept("pinned vCPU 1");
        broken.finish();
        assertEquals(3, Files.readAllLines(file()).size(), "the log file has every line");
    }

    @Test
    void onlyTheShimsDescriptorIsOpened() {
        for (String fd : new String[] {null, "", "0", "1", "2", "10", "3x", "/etc/passwd"}) {
            assertEquals(null, HookLog.syslogFromShim(fd), fd);
        }
    }
}
