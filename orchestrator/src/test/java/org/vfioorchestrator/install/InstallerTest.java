package org.vfioorchestrator.install;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.Journal;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.testing.CliRun;

/** install / uninstall through {@code Main.run} on temporary trees ({@code --root}). */
class InstallerTest {
    @TempDir
    Path dir;

    InstallTree tree;
    Path root;
    Path jar;

    static final String FOREIGN = "#!/bin/sh\n# someone's passthrough helper\nexec /etc/libvirt/hooks/helper \"$@\"\n";

    @BeforeEach
    void setUp() throws IOException {
        useTree("root");
    }

    void useTree(String name) throws IOException {
        tree = new InstallTree(dir, name);
        root = tree.root;
        jar = tree.jar;
    }

    CliRun install(String... more) {
        return tree.install(more);
    }

    CliRun uninstall(String... more) {
        return tree.uninstall(more);
    }

    static Map<String, String> snapshot(Path root) throws IOException {
        return InstallTree.snapshot(root);
    }

    String read(String rel) throws IOException {
        return Files.readString(root.resolve(rel));
    }

    String mode(String rel) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(rel), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void freshInstallOnNewLibvirtGoesToQemuDAndUninstallRestoresTheTreeExactly() throws IOException {
        Map<String, String> before = snapshot(root);
        CliRun r = install("--libvirt-version", "9.0.0");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("libvirt 9.0.0 runs every program in " + root + "/etc/libvirt/hooks/qemu.d"), r.out());

        assertEquals(Files.readString(jar, StandardCharsets.ISO_8859_1),
                Files.readString(root.resolve("usr/local/lib/vfio-orchestrator/vfio-orchestrator.jar"), StandardCharsets.ISO_8859_1));
        assertEquals("rw-r--r--", mode("usr/local/lib/vfio-orchestrator/vfio-orchestrator.jar"));
        assertEquals("rwxr-xr-x", mode("usr/local/bin/vfio-orchestrator"));
        assertTrue(read("usr/local/bin/vfio-orchestrator").contains("lib/vfio-orchestrator/vfio-orchestrator.jar"));
        assertFalse(Resources.manPages().isEmpty());
        for (String page : Resources.manPages()) {
            assertTrue(page.endsWith(".1.gz"), page + ": gzipped, as Debian installs man pages");
            assertArrayEquals(Resources.bytes("man/" + page), Files.readAllBytes(root.resolve("usr/local/share/man/man1/" + page)));
            assertEquals("rw-r--r--", mode("usr/local/share/man/man1/" + page));
        }
        assertEquals(new String(Resources.bytes(Resources.COMPLETION), StandardCharsets.UTF_8),
                read("usr/local/share/bash-completion/completions/vfio-orchestrator"), "bash-completion finds it by the command's name");
        assertEquals(new String(Resources.bytes(Resources.ZSH_COMPLETION), StandardCharsets.UTF_8),
                read("usr/local/share/zsh/site-functions/_vfio-orchestrator"), "where zsh looks for local completions");
        assertEquals("rw-r--r--", mode("usr/local/share/zsh/site-functions/_vfio-orchestrator"));
        String shim = read("etc/libvirt/hooks/qemu.d/vfio-orchestrator");
        assertEquals("rwxr-xr-x", mode("etc/libvirt/hooks/qemu.d/vfio-orchestrator"));
        assertTrue(shim.contains("\nprofiles=/etc/vfio-orchestrator/profiles\n"), shim);
        assertTrue(shim.contains("\njar=/usr/local/lib/vfio-orchestrator/vfio-orchestrator.jar\n"),
                "paths as on the real host, not under --root");
        assertTrue(shim.contains("\nchain=\n"));
        assertFalse(Files.exists(root.resolve("etc/libvirt/hooks/qemu")), "hooks/qemu stays free");
        assertEquals("rwxr-xr-x", mode("etc/vfio-orchestrator/profiles"));
        assertEquals(new String(Resources.bytes(Resources.TEMPLATE), StandardCharsets.UTF_8),
                read("etc/vfio-orchestrator/profiles/README"));
        assertEquals(List.of("README"), list("etc/vfio-orchestrator/profiles"), "no *.yaml: that would be a VM's profile");
        assertEquals(List.of("etc/libvirt/hooks/qemu.d"), list("etc/libvirt/hooks").stream().map(n -> "etc/libvirt/hooks/" + n)
                .toList(), "no temporary files left behind");

        Map<String, Object> manifest = JSON.std.mapFrom(read("etc/vfio-orchestrator/install.manifest"));
        assertEquals("HOOK_DIR", manifest.get("placement"));
        assertEquals("/usr/local", manifest.get("prefix"));
        assertEquals("9.0.0", manifest.get("libvirt"));
        assertFalse(r.out().contains("libvirtd is running"), "a temp tree has no libvirtd");

        CliRun u = uninstall();
        assertEquals(0, u.code(), u.out() + u.err());
        assertEquals(before, snapshot(root));
    }

    List<String> list(String rel) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve(rel))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aForeignHooksQemuIsChainedOnOldLibvirtAndPutBackByUninstall() throws Exception {
        Path qemu = root.resolve("etc/libvirt/hooks/qemu");
        Files.writeString(qemu, FOREIGN);
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwxr-x---"));
        Map<String, String> before = snapshot(root);

        CliRun r = install("--libvirt-version", "6.0.0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("moved " + qemu + " to " + qemu + ".orig (the shim runs it first)"), r.out());
        assertEquals(FOREIGN, read("etc/libvirt/hooks/qemu.orig"));
        assertEquals("rwxr-x---", mode("etc/libvirt/hooks/qemu.orig"), "moved, not copied: mode kept");
        String shim = read("etc/libvirt/hooks/qemu");
        assertTrue(Resources.isShim(shim.getBytes(StandardCharsets.UTF_8)));
        assertEquals("/etc/libvirt/hooks/qemu.orig", Resources.settingOf(shim.getBytes(StandardCharsets.UTF_8), "chain"));
        assertFalse(Files.exists(root.resolve("etc/libvirt/hooks/qemu.d")));

        assertEquals(0, uninstall().code());
        assertEquals(before, snapshot(root));
    }

    @Test
    void aForeignHooksQemuThatIsASymlinkMovesAsTheLinkItself() throws Exception {
        Files.writeString(root.resolve("etc/libvirt/hooks/helper"), FOREIGN);
        Files.createSymbolicLink(root.resolve("etc/libvirt/hooks/qemu"), Path.of("helper"));
        Map<String, String> before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "5.10.0").code());
        assertTrue(Files.isSymbolicLink(root.resolve("etc/libvirt/hooks/qemu.orig")));
        assertEquals(0, uninstall().code());
        assertEquals(before, snapshot(root));
    }

    @Test
    void aForeignHooksQemuIsLeftAloneOnNewLibvirt() throws Exception {
        Path qemu = root.resolve("etc/libvirt/hooks/qemu");
        Files.writeString(qemu, FOREIGN);
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> before = snapshot(root);
        CliRun r = install("--libvirt-version", "6.5.0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(qemu + " stays as it is and keeps running"), r.out());
        assertEquals(FOREIGN, read("etc/libvirt/hooks/qemu"));
        assertTrue(Files.isExecutable(root.resolve("etc/libvirt/hooks/qemu.d/vfio-orchestrator")));
        assertFalse(Files.exists(root.resolve("etc/libvirt/hooks/qemu.orig")));
        assertEquals(0, uninstall().code());
        assertEquals(before, snapshot(root));
    }

    @Test
    void withoutAKnownLibvirtVersionTheShimTakesHooksQemuWhichEveryVersionRuns() throws Exception {
        CommandRunner runner = mock(CommandRunner.class);
        Installer.Result r = new Installer(root, line -> { }, runner).install(new Installer.Request("/usr/local", "/etc/libvirt/hooks",
                java.util.Optional.empty(), java.util.Optional.of(jar), java.util.Optional.empty(), false));
        assertEquals(Manifest.Placement.HOOK_FILE, r.manifest().placement());
        assertTrue(Resources.isShim(Files.readAllBytes(root.resolve("etc/libvirt/hooks/qemu"))));
        verifyNoInteractions(runner); // a --root install writes no class-data-sharing archive: that belongs to the host's JDK
    }

    @Test
    void installingTwiceChangesNothingTheSecondTime() throws Exception {
        Files.writeString(root.resolve("etc/libvirt/hooks/qemu"), FOREIGN);
        Map<String, String> before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "6.0.0").code());
        Map<String, String> once = snapshot(root);
        CliRun again = install("--libvirt-version", "6.0.0");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("already installed, nothing changed"), again.out());
        assertEquals(once, snapshot(root));
        // the placement is the manifest's: a newer libvirt since does not move the hook behind the user's back
        assertEquals(0, install("--libvirt-version", "10.0.0").code());
        assertEquals(once, snapshot(root));
        assertEquals(0, uninstall().code());
        assertEquals(before, snapshot(root));
    }

    @Test
    void reinstallingANewerJarUpdatesItAndUninstallStillRemovesIt() throws Exception {
        Map<String, String> before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        Files.write(jar, "PK\u0003\u0004 version two".getBytes(StandardCharsets.ISO_8859_1));
        CliRun r = install("--libvirt-version", "9.0.0");
        assertTrue(r.out().contains("updated " + root + "/usr/local/lib/vfio-orchestrator/vfio-orchestrator.jar"), r.out());
        assertEquals(0, uninstall().code());
        assertEquals(before, snapshot(root));
    }

    @Test
    void anEarlierVersionsManPageIsRemovedByTheNextInstallWhileUnchanged() throws Exception {
        Map<String, String> before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        // as an earlier version left them: uncompressed pages, recorded with their hashes; one edited since
        Map<String, Object> manifest = JSON.std.mapFrom(read("etc/vfio-orchestrator/install.manifest"));
        @SuppressWarnings("unchecked")
        List<Object> steps = new java.util.ArrayList<>((List<Object>) manifest.get("steps"));
        for (String page : List.of("vfio-orchestrator-plan.1", "vfio-orchestrator-xml.1")) {
            String path = "/usr/local/share/man/man1/" + page;
            Files.writeString(root.resolve(path.substring(1)), ".TH an earlier version's page\n");
            steps.add(Map.of("action", "FILE", "path", path, "sha256", InstallFs.sha256(Files.readAllBytes(root.resolve(path.substring(1))))));
        }
        manifest.put("steps", steps);
        Files.writeString(root.resolve("etc/vfio-orchestrator/install.manifest"), JSON.std.asString(manifest));
        Files.writeString(root.resolve("usr/local/share/man/man1/vfio-orchestrator-xml.1"), ".TH my notes\n");
        Map<String, String> earlier = snapshot(root);

        CliRun dry = install("--libvirt-version", "9.0.0", "--dry-run");
        assertEquals("would remove " + root + "/usr/local/share/man/man1/vfio-orchestrator-plan.1 (an earlier version's; this"
                + " one does not install it)", dry.out().lines().filter(l -> !l.startsWith("libvirt ")).findFirst().orElseThrow());
        assertEquals(earlier, snapshot(root));
        CliRun again = install("--libvirt-version", "9.0.0");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("\nremoved " + root + "/usr/local/share/man/man1/vfio-orchestrator-plan.1 (an earlier"
                + " version's; this one does not install it)\n"), again.out());
        assertFalse(Files.exists(root.resolve("usr/local/share/man/man1/vfio-orchestrator-plan.1")));
        assertFalse(read("etc/vfio-orchestrator/install.manifest").contains("vfio-orchestrator-plan.1\""), "nor recorded");
        assertEquals(".TH my notes\n", read("usr/local/share/man/man1/vfio-orchestrator-xml.1"), "changed since: kept");

        CliRun u = uninstall();
        assertEquals(1, u.code(), u.out());
        assertTrue(u.out().contains("kept " + root + "/usr/local/share/man/man1/vfio-orchestrator-xml.1: it changed since install"),
                u.out());
        Map<String, String> after = snapshot(root);
        assertEquals("file rw-r--r-- .TH my notes\n", after.remove("usr/local/share/man/man1/vfio-orchestrator-xml.1"));
        after.keySet().removeIf(p -> p.equals("usr/local/share/man/man1") || p.equals("usr/local/share/man") || p.equals("usr/local/share"));
        assertEquals(before, after, "all but the page someone edited");
    }

    @Test
    void dryRunsChangeNothing() throws Exception {
        Files.writeString(root.resolve("etc/libvirt/hooks/qemu"), FOREIGN);
        Map<String, String> before = snapshot(root);
        CliRun r = install("--libvirt-version", "6.0.0", "--dry-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("would move " + root + "/etc/libvirt/hooks/qemu to"), r.out());
        assertTrue(r.out().endsWith("dry run: nothing was changed\n"), r.out());
        assertEquals(before, snapshot(root));

        assertEquals(0, install("--libvirt-version", "6.0.0").code());
        Map<String, String> installed = snapshot(root);
        CliRun u = uninstall("--dry-run", "--purge");
        assertEquals(0, u.code(), u.out());
        assertTrue(u.out().contains("would move " + root + "/etc/libvirt/hooks/qemu.orig back to"), u.out());
        assertTrue(u.out().contains("would remove " + root + "/etc/vfio-orchestrator/"), "a dry run sees the directory empty by then");
        assertEquals(installed, snapshot(root));
    }

    /** The tree is {@code before} plus the user's profile win11.yaml and the directories holding it. */
    void assertOnlyTheProfileStays(Map<String, String> before, String why) throws IOException {
        Map<String, String> after = snapshot(root);
        assertEquals("file rw-r--r-- host_cpus: 0\n", after.remove("etc/vfio-orchestrator/profiles/win11.yaml"));
        assertEquals("dir rwxr-xr-x", after.remove("etc/vfio-orchestrator/profiles"));
        assertEquals("dir rwxr-xr-x", after.remove("etc/vfio-orchestrator"));
        assertEquals(before, after, why);
    }

    @Test
    void userProfilesStayUnlessPurged() throws Exception {
        Map<String, String> before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/win11.yaml"), "host_cpus: 0\n");
        CliRun u = uninstall();
        assertEquals(0, u.code());
        assertTrue(u.out().contains("kept your profiles in " + root + "/etc/vfio-orchestrator/profiles: win11.yaml"
                + " (--purge removes them)"), u.out());
        assertOnlyTheProfileStays(before, "everything else is as before the install");

        Path root2 = root;
        useTree("root2");
        before = snapshot(root);
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/win11.yaml"), "host_cpus: 0\n");
        CliRun purged = uninstall("--purge");
        assertTrue(purged.out().contains("removed " + root + "/etc/vfio-orchestrator/profiles/win11.yaml (--purge)"), purged.out());
        assertEquals(before, snapshot(root));
        assertTrue(Files.exists(root2.resolve("etc/vfio-orchestrator/profiles/win11.yaml")));
    }

    @Test
    void aFileOfSomeoneElseAtATargetIsRefusedBeforeAnythingChanges() throws Exception {
        Files.writeString(root.resolve("usr/local/bin/vfio-orchestrator"), "#!/bin/sh\necho an older hand-made copy\n");
        Map<String, String> before = snapshot(root);
        CliRun r = install("--libvirt-version", "9.0.0");
        assertEquals(1, r.code());
        assertEquals("vfio-orchestrator install: " + root + "/usr/local/bin/vfio-orchestrator exists and was not installed by"
                + " 'vfio-orchestrator install' (it is not in " + root + "/etc/vfio-orchestrator/install.manifest); move it"
                + " away or choose another --prefix, then install again\n", r.err());
        assertEquals(before, snapshot(root));
    }

    @Test
    void anExistingQemuOrigOnOldLibvirtIsRefused() throws Exception {
        Files.writeString(root.resolve("etc/libvirt/hooks/qemu"), FOREIGN);
        Files.writeString(root.resolve("etc/libvirt/hooks/qemu.orig"), "#!/bin/sh\n");
        Map<String, String> before = snapshot(root);
        CliRun r = install("--libvirt-version", "6.0.0");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("vfio-orchestrator install: " + root + "/etc/libvirt/hooks/qemu.orig exists, and "), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
        assertEquals(before, snapshot(root));
    }

    @Test
    void aHandCopiedShimInHooksQemuIsRefusedSoTheHookNeverRunsTwice() throws Exception {
        Files.write(root.resolve("etc/libvirt/hooks/qemu"), Resources.bytes(Resources.SHIM));
        CliRun r = install("--libvirt-version", "9.0.0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is a vfio-orchestrator hook shim that install did not record"), r.err());
        CliRun u = uninstall();
        assertEquals(1, u.code());
        assertTrue(u.err().contains("is a vfio-orchestrator hook shim put there by hand: remove it by hand"), u.err());
    }

    @Test
    void anInstalledFileChangedSinceIsKeptAndNamed() throws Exception {
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        Files.writeString(root.resolve("usr/local/bin/vfio-orchestrator"), "#!/bin/sh\n# my edits\n");
        CliRun u = uninstall();
        assertEquals(1, u.code());
        assertTrue(u.out().contains("kept " + root + "/usr/local/bin/vfio-orchestrator: it changed since install"), u.out());
        assertTrue(Files.exists(root.resolve("usr/local/bin/vfio-orchestrator")));
        assertFalse(Files.exists(root.resolve("etc/vfio-orchestrator/install.manifest")));
    }

    @Test
    void uninstallRefusesWhileVmsAreIsolatedUnlessForced() throws Exception {
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        HostFs host = HostFs.open(root);
        new JournalStore(host).save(Journal.empty("boot").withVm("win11",
                new Journal.AppliedVm("/etc/vfio-orchestrator/profiles/win11.yaml", "host_cpus: 0\n", "2026-01-01T00:00:00Z")));
        Map<String, String> installed = snapshot(root);
        CliRun u = uninstall();
        assertEquals(3, u.code());
        assertTrue(u.err().contains("says VM(s) win11 are isolated now; without the hook nothing puts the host back when"
                + " they stop. Shut them down (or run 'vfio-orchestrator revert --all') first, or add --force"), u.err());
        assertEquals(installed, snapshot(root));
        CliRun forced = uninstall("--force");
        assertEquals(0, forced.code(), forced.err());
        assertTrue(forced.out().startsWith("warning: the journal"), forced.out());
    }

    @Test
    void anInstallElsewhereMustBeUninstalledFirst() throws Exception {
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        CliRun r = install("--libvirt-version", "9.0.0", "--prefix", "/opt/vfio");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("already installed with --prefix /usr/local --libvirt-hooks /etc/libvirt/hooks; run"
                + " 'vfio-orchestrator uninstall' first to move it"), r.err());
        CliRun bad = install("--prefix", "relative/dir", "--libvirt-version", "9.0.0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--prefix relative/dir: give an absolute directory"), bad.err());
        CliRun badVersion = install("--libvirt-version", "nine");
        assertEquals(2, badVersion.code());
    }

    @Test
    void aRunningDaemonIsToldToReloadNamingTheOneThatRuns() throws Exception {
        Files.createDirectories(root.resolve("proc/4242"));
        Files.writeString(root.resolve("proc/4242/comm"), "virtqemud\n");
        CliRun r = install("--libvirt-version", "10.0.0", "--dry-run");
        assertTrue(r.out().contains("\nvirtqemud is running, and it looks for hooks only when it starts or reloads: run"
                + " 'systemctl reload virtqemud' (without systemd: kill -HUP $(pidof virtqemud)); running VMs carry on\n"), r.out());
        assertTrue(r.out().contains("\nwould write " + root + "/etc/libvirt/hooks/qemu.d/vfio-orchestrator\n"), r.out());
    }

    @Test
    void nothingInstalledIsNothingToUninstall() {
        CliRun u = uninstall();
        assertEquals(0, u.code());
        assertEquals("nothing to uninstall: no " + root + "/etc/vfio-orchestrator/install.manifest\n", u.out());
    }

    @Test
    void notAJarIsNamed() throws Exception {
        Files.writeString(jar, "just text");
        CliRun r = install("--libvirt-version", "9.0.0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(jar + ": not a jar (zip) file"), r.err());
    }

    @Test
    void libvirtVersionsAreComparedAsNumbers() {
        assertTrue(LibvirtVersion.parse("6.5.0").runsHookDirs());
        assertTrue(LibvirtVersion.parse("10.0").runsHookDirs());
        assertFalse(LibvirtVersion.parse("6.4.9").runsHookDirs());
        assertEquals("9.0.0", LibvirtVersion.find("libvirtd (libvirt) 9.0.0\n").orElseThrow().toString());
        CommandRunner none = mock(CommandRunner.class);
        when(none.run(any(), any())).thenThrow(OrchestratorException.data("libvirtd: cannot run it"));
        assertTrue(LibvirtVersion.detect(none).isEmpty());

        CommandRunner split = mock(CommandRunner.class);
        when(split.run(eq(List.of("libvirtd", "--version")), any())).thenReturn(new CommandRunner.Result(127, "", "not found"));
        when(split.run(eq(List.of("virtqemud", "--version")), any()))
                .thenReturn(new CommandRunner.Result(0, "virtqemud (libvirt) 10.5.0\n", ""));
        assertEquals("10.5.0", LibvirtVersion.detect(split).orElseThrow().toString());
    }

    /** What the .deb ships under /usr (its data, built from the same resources as the jar's). */
    void placePackageFiles() throws IOException {
        Path lib = Files.createDirectories(root.resolve("usr/lib/vfio-orchestrator"));
        Files.copy(jar, lib.resolve("vfio-orchestrator.jar"));
        Path launcher = Files.createDirectories(root.resolve("usr/bin")).resolve("vfio-orchestrator");
        Files.write(launcher, Resources.bytes(Resources.LAUNCHER));
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path man = Files.createDirectories(root.resolve("usr/share/man/man1"));
        for (String page : Resources.manPages()) {
            Files.write(man.resolve(page), Resources.bytes("man/" + page));
        }
        Files.write(Files.createDirectories(root.resolve("usr/share/bash-completion/completions")).resolve("vfio-orchestrator"),
                Resources.bytes(Resources.COMPLETION));
        Files.write(Files.createDirectories(root.resolve("usr/share/zsh/vendor-completions")).resolve("_vfio-orchestrator"),
                Resources.bytes(Resources.ZSH_COMPLETION));
    }

    @Test
    void aPackageInstallLeavesThePackagesFilesToItAndOnlyItsPrermUndoesIt() throws Exception {
        placePackageFiles();
        Map<String, String> unpacked = snapshot(root);
        // the postinst runs the packaged jar, the same bytes as this one
        CliRun r = tree.install("--libvirt-version", "9.0.0", "--prefix", "/usr", "--package", "vfio-orchestrator");
        assertEquals(0, r.code(), r.err());
        assertEquals("libvirt 9.0.0 runs every program in " + root + "/etc/libvirt/hooks/qemu.d: the hook goes there; " + root
                + "/etc/libvirt/hooks/qemu stays free for other tools\n"
                + "created " + root + "/etc/vfio-orchestrator/\n"
                + "created " + root + "/etc/libvirt/hooks/qemu.d/\n"
                + "wrote " + root + "/etc/libvirt/hooks/qemu.d/vfio-orchestrator\n"
                + "created " + root + "/etc/vfio-orchestrator/profiles/\n"
                + "wrote " + root + "/etc/vfio-orchestrator/profiles/README\n"
                + "no class-data-sharing archive in a --root install (it belongs to the JDK that writes it): run"
                + " 'vfio-orchestrator cds-archive' on the installed host for faster hook calls\n"
                + "recorded in " + root + "/etc/vfio-orchestrator/install.manifest; undo with: apt remove vfio-orchestrator\n",
                r.out(), "the package's files in /usr are already right: install leaves them, and the package, alone");
        assertTrue(read("etc/libvirt/hooks/qemu.d/vfio-orchestrator").contains("\njar=/usr/lib/vfio-orchestrator/vfio-orchestrator.jar\n"));
        Map<String, Object> manifest = JSON.std.mapFrom(read("etc/vfio-orchestrator/install.manifest"));
        assertEquals("vfio-orchestrator", manifest.get("package"));
        Files.writeString(root.resolve("etc/vfio-orchestrator/profiles/win11.yaml"), "host_cpus: 0\n");

        CliRun byHand = uninstall();
        assertEquals(1, byHand.code());
        assertEquals("vfio-orchestrator uninstall: " + root + "/etc/vfio-orchestrator/install.manifest: the package"
                + " vfio-orchestrator installed it; remove it with the package manager (apt remove vfio-orchestrator),"
                + " which runs this uninstall\n", byHand.err());
        CliRun prerm = uninstall("--package", "vfio-orchestrator");
        assertEquals(0, prerm.code(), prerm.out() + prerm.err());
        assertTrue(prerm.out().contains("kept your profiles in " + root + "/etc/vfio-orchestrator/profiles: win11.yaml (apt purge"
                + " vfio-orchestrator removes them)\n"), prerm.out());
        assertOnlyTheProfileStays(unpacked, "the package's own files are left for dpkg to remove");
    }

    @Test
    void anInstallByHandIsNotThePackagesToReplaceOrRemove() throws Exception {
        assertEquals(0, install("--libvirt-version", "9.0.0").code());
        Map<String, String> installed = snapshot(root);
        CliRun postinst = install("--libvirt-version", "9.0.0", "--prefix", "/usr", "--package", "vfio-orchestrator");
        assertEquals(1, postinst.code());
        assertEquals("vfio-orchestrator install: " + root + "/etc/vfio-orchestrator/install.manifest: already installed by"
                + " hand (in /usr/local); run 'vfio-orchestrator uninstall' first, then set the package vfio-orchestrator up"
                + " again (dpkg --configure -a)\n", postinst.err());
        CliRun prerm = uninstall("--package", "vfio-orchestrator");
        assertEquals(0, prerm.code());
        assertEquals("nothing of the package vfio-orchestrator to uninstall: " + root + "/etc/vfio-orchestrator/install.manifest"
                + " records an install by hand, which 'vfio-orchestrator uninstall' removes\n", prerm.out());
        assertEquals(installed, snapshot(root));
        assertEquals(2, install("--package", "Not_A_Package").code());
    }
}
