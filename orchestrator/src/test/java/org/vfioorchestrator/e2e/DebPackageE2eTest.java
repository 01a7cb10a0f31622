package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.testing.Requires;

/**
 * The .deb that 'mvn package' builds, on this machine: {@code dpkg -i} (its postinst installs the hook),
 * an upgrade to a changed jar (a new class-data-sharing archive), a VM started through libvirtd with a profile (the hook pins its vCPU), {@code dpkg -r} (its prerm
 * uninstalls; the profile stays), {@code dpkg -P} (the profile and the logs go). Every path the package
 * and install touch is compared before and after: nothing is left.
 *
 * <p>The profile only pins the VM's own threads (no IRQ, workqueue or cgroup change). The hook log and
 * report directories, if there were any, are moved aside for the test (a purge removes them) and put
 * back; libvirtd is only reloaded while it manages no domain but the test's.
 */
@Tag("libvirt")
@Tag("root")
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DebPackageE2eTest {
    static final String PACKAGE = "vfio-orchestrator";
    /** Directories only the package and the tool write in. */
    static final List<Path> OWN_TREES = Stream.of("/etc/vfio-orchestrator", "/etc/libvirt/hooks", "/usr/lib/vfio-orchestrator",
            "/var/log/vfio-orchestrator", "/var/lib/vfio-orchestrator").map(Path::of).toList();
    /** Directories others write in too: only the entries named like the package (or its zsh completion) count. */
    static final List<Path> SHARED_DIRS = Stream.of("/usr/bin", "/usr/share/man/man1", "/usr/share/bash-completion",
            "/usr/share/bash-completion/completions", "/usr/share/zsh", "/usr/share/zsh/vendor-completions", "/usr/share/doc",
            "/var/lib/dpkg/info").map(Path::of).toList();
    /** Removed by a purge: whatever was there before the test waits beside it ({@link #setAside}). */
    static final List<Path> SET_ASIDE = Stream.of("/var/log/vfio-orchestrator", "/var/lib/vfio-orchestrator").map(Path::of).toList();

    /** Where a directory of SET_ASIDE waits: beside it, on its file system, so a rename moves it whatever it holds. */
    static Path setAside(Path dir) {
        return dir.resolveSibling(dir.getFileName() + ".before-deb-e2e");
    }

    final String vm = "vfio-deb-e2e-" + ProcessHandle.current().pid();
    Libvirtd libvirtd;
    Path work;
    boolean dpkgCalled;

    @Test
    void installStartAVmRemoveAndPurgeLeaveNothingBehind() throws Exception {
        Requires.root("it installs a package and the libvirt hook");
        for (String tool : List.of("dpkg", "dpkg-query", "virsh", "libvirtd", "qemu-system-x86_64")) {
            Requires.that(Libvirtd.onPath(tool).isPresent(), "needs " + tool + " (apt-get install dpkg libvirt-daemon-system"
                    + " libvirt-clients qemu-system-x86)");
        }
        Path deb = builtDeb();
        Requires.that(deb != null, "no vfio-orchestrator_*_all.deb beside " + System.getProperty("vfio.jar") + ": run 'mvn -B"
                + " verify' (the e2e tests run after 'package')");
        Requires.that(status().isEmpty(), "the package " + PACKAGE + " is on this machine (" + status() + "): the test"
                + " installs and purges its own");
        Requires.that(!Files.exists(Path.of("/etc/vfio-orchestrator")), "/etc/vfio-orchestrator exists: vfio-orchestrator is"
                + " installed or has profiles here, which the package's purge would remove");
        Requires.that(!Files.exists(Guest.JOURNAL), Guest.JOURNAL + " exists: VMs are isolated on this machine right now");
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        Requires.that(online.contains(0) && online.contains(1), "needs online CPUs 0 and 1 (has " + online + ")");
        libvirtd = new Libvirtd(List.of(vm));
        libvirtd.requireToItself();

        for (Path dir : SET_ASIDE) {
            Requires.that(!Files.exists(setAside(dir)), setAside(dir) + " exists: an earlier run could not put it back as " + dir);
        }
        work = Files.createTempDirectory("vfio-deb-e2e-");
        for (Path dir : SET_ASIDE) {
            if (Files.exists(dir)) {
                Files.move(dir, setAside(dir));
            }
        }
        Map<String, String> before = touched();

        // dpkg -i: dpkg unpacks /usr, the postinst's 'install --package' adds the hook and /etc
        dpkgCalled = true;
        Cmd.Out installed = dpkg("-i", deb.toString());
        assertEquals(0, installed.code(), installed.out() + installed.err());
        assertTrue(installed.out().contains("wrote /etc/libvirt/hooks/qemu.d/vfio-orchestrator\n"), installed.out());
        assertTrue(installed.out().contains("wrote /usr/lib/vfio-orchestrator/vfio-orchestrator.jsa (class-data sharing"),
                installed.out() + installed.err());
        assertTrue(installed.out().contains("recorded in /etc/vfio-orchestrator/install.manifest; undo with: apt remove "
                + PACKAGE + "\n"), installed.out());
        assertFalse(installed.out().contains("wrote /usr/bin/") || installed.out().contains("wrote /usr/share/"),
                "install leaves the package's own files to dpkg: " + installed.out());
        Cmd.Out verify = Cmd.run(Duration.ofMinutes(1), "dpkg", "--verify", PACKAGE);
        assertEquals(new Cmd.Out(0, "", ""), verify, "every file of the package as dpkg unpacked it");
        assertEquals("ii ", status());
        assertTrue(Files.isExecutable(Path.of("/usr/bin/vfio-orchestrator")));
        // Debian policy 12.1 and 12.5 (DebContentsTest checks their contents)
        assertTrue(Files.isRegularFile(Path.of("/usr/share/man/man1/vfio-orchestrator-install.1.gz")));
        assertFalse(Files.exists(Path.of("/usr/share/man/man1/vfio-orchestrator-install.1")), "only the gzipped page");
        assertTrue(Files.readString(Path.of("/usr/share/doc/" + PACKAGE + "/copyright")).startsWith("Format: "));
        assertTrue(Files.isRegularFile(Path.of("/usr/share/bash-completion/completions/vfio-orchestrator")));
        assertTrue(Files.isRegularFile(Path.of("/usr/share/zsh/vendor-completions/_vfio-orchestrator")));
        Cmd.Out version = Cmd.run(Duration.ofMinutes(1), "/usr/bin/vfio-orchestrator", "--version");
        assertEquals(0, version.code(), version.err());
        // an upgrade to another jar: the hook and /etc stay as they are; the old class-data-sharing archive goes
        // before dpkg replaces the jar (no JVM starts the new jar with it and warns), the postinst writes the new one
        Cmd.Out upgraded = dpkg("-i", upgradeOf(deb).toString());
        assertEquals(0, upgraded.code(), upgraded.out() + upgraded.err());
        assertFalse(upgraded.out().contains("created /") || upgraded.out().contains("wrote /etc/"), upgraded.out());
        assertTrue(upgraded.out().contains("wrote /usr/lib/vfio-orchestrator/vfio-orchestrator.jsa (class-data sharing"),
                upgraded.out());
        assertFalse((upgraded.out() + upgraded.err()).contains("Unable to use shared archive"), upgraded.out() + upgraded.err());
        assertTrue(Files.readString(Path.of("/etc/vfio-orchestrator/install.manifest")).contains("\"jarSha256\" : \""
                + sha256(Path.of("/usr/lib/vfio-orchestrator/vfio-orchestrator.jar")) + "\""), "the archive of the new jar");

        // a VM with a profile: libvirtd finds the hook once reloaded, and the hook pins the vCPU
        Path profile = Guest.PROFILES.resolve(vm + ".yaml");
        Files.writeString(profile, "# written by DebPackageE2eTest; only the VM's own threads are pinned\n"
                + "host_cpus: 0\nvcpus:\n  pin: [1]\nemulator_cpus: 0\niothread_cpus: 0\n"
                + "irqs: {move_to_host: false}\nworkqueues: {move_to_host: false}\ngovernor: leave\n"
                + "cstates: {method: leave}\ncgroups: {mode: none}\nmeasure: {after_start: false}\n");
        Path xml = work.resolve(vm + ".xml");
        Files.writeString(xml, Guest.domainXml(vm, 1, Libvirtd.onPath("qemu-system-x86_64").orElseThrow().toString()));
        libvirtd.findHooks();
        Cmd.Out create = Libvirtd.virsh("create", xml.toString());
        assertEquals(0, create.code(), create.err() + "\nhook log:\n" + Guest.hookLogSince(0));
        String log = Guest.hookLogSince(0);
        assertTrue(log.contains(vm + " prepare begin: ") && log.contains(vm + " started begin: "), "the packaged hook ran: " + log);
        int pid = Guest.qemuPid(vm);
        for (Map.Entry<Integer, String> t : Guest.threads(pid).entrySet()) {
            CpuSet want = t.getValue().startsWith("CPU 0/") ? CpuSet.of(1) : CpuSet.of(0);
            assertEquals(want, Guest.affinity(pid, t.getKey()), "thread " + t.getKey() + " '" + t.getValue() + "'");
        }
        assertEquals(0, Libvirtd.virsh("destroy", vm).code());
        Libvirtd.waitFor(() -> !Files.exists(Guest.JOURNAL), Duration.ofSeconds(20), "the stop hooks to revert (journal gone)");

        // dpkg -r: the prerm's 'uninstall --package' takes out the hook and /etc; the profile and the log stay
        Cmd.Out removed = dpkg("-r", PACKAGE);
        assertEquals(0, removed.code(), removed.out() + removed.err());
        assertTrue(removed.out().contains("removed /etc/libvirt/hooks/qemu.d/vfio-orchestrator\n"), removed.out());
        assertTrue(removed.out().contains("kept your profiles in /etc/vfio-orchestrator/profiles: " + vm + ".yaml (apt purge "
                + PACKAGE + " removes them)\n"), removed.out());
        Map<String, String> expected = new TreeMap<>(before);
        expected.put("/etc/vfio-orchestrator", "<dir>");
        expected.put("/etc/vfio-orchestrator/profiles", "<dir>");
        expected.put(profile.toString(), Files.readString(profile) + " rw-r--r--");
        assertEquals(withoutLogAndDpkg(expected), withoutLogAndDpkg(touched()), "all but the profile and the log is gone");

        // dpkg -P: the profile (the package's configuration) and the log go too
        Cmd.Out purged = dpkg("-P", PACKAGE);
        assertEquals(0, purged.code(), purged.out() + purged.err());
        assertEquals(before, touched(), "after the purge, every path the package and install touch is as before");
    }

    /** Less the hook log (a removal keeps it) and dpkg's own records (a removal keeps the postrm for the purge). */
    static Map<String, String> withoutLogAndDpkg(Map<String, String> touched) {
        Map<String, String> m = new TreeMap<>(touched);
        m.keySet().removeIf(p -> p.startsWith("/var/log/vfio-orchestrator") || p.startsWith("/var/lib/dpkg/info/")
                || p.equals("dpkg status"));
        return m;
    }

    /** The .deb beside the shaded jar. */
    static Path builtDeb() throws IOException {
        Path target = Path.of(System.getProperty("vfio.jar", "target/vfio-orchestrator.jar")).getParent();
        if (target == null || !Files.isDirectory(target)) {
            return null;
        }
        try (Stream<Path> s = Files.list(target)) {
            return s.filter(p -> p.getFileName().toString().matches("vfio-orchestrator_.+_all\\.deb")).findFirst().orElse(null);
        }
    }

    /** The same package with another jar and a higher version, as a new release would be. */
    Path upgradeOf(Path deb) throws Exception {
        Path tree = work.resolve("upgrade");
        assertEquals(0, Cmd.run(Duration.ofMinutes(1), "dpkg-deb", "-R", deb.toString(), tree.toString()).code());
        try (FileSystem jar = FileSystems.newFileSystem(tree.resolve("usr/lib/vfio-orchestrator/vfio-orchestrator.jar"))) {
            Files.writeString(jar.getPath("upgraded-by-DebPackageE2eTest"), "a jar that differs\n");
        }
        Path control = tree.resolve("DEBIAN/control");
        Files.writeString(control, Files.readString(control).replaceFirst("(?m)^Version: (.*)$", "Version: $1+e2e"));
        Path upgrade = work.resolve("upgrade.deb");
        Cmd.Out built = Cmd.run(Duration.ofMinutes(2), "dpkg-deb", "-b", tree.toString(), upgrade.toString());
        assertEquals(0, built.code(), built.err());
        return upgrade;
    }

    static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    static Cmd.Out dpkg(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("dpkg"));
        argv.addAll(List.of(args));
        return Cmd.run(Duration.ofMinutes(5), argv, null);
    }

    /** dpkg's abbreviated status of the package ("ii ", "rc "), empty when dpkg does not know it. */
    static String status() {
        Cmd.Out q = Cmd.run(Duration.ofMinutes(1), "dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE);
        return q.ok() ? q.out() : "";
    }

    /** Every path the package and install touch, with what is there, and dpkg's status of the package. */
    static Map<String, String> touched() throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (Path tree : OWN_TREES) {
            m.put(tree.toString(), Files.exists(tree) ? "<present>" : "<absent>");
            m.putAll(Cleanup.snapshotTree(tree));
        }
        for (Path dir : SHARED_DIRS) {
            m.put(dir.toString(), Files.isDirectory(dir) ? "<dir>" : "<absent>");
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path p : s.filter(p -> p.getFileName().toString().startsWith(PACKAGE)
                            || p.getFileName().toString().equals("_" + PACKAGE)).toList()) {
                        m.putAll(Cleanup.snapshotTree(p));
                    }
                }
            }
        }
        m.put("dpkg status", status());
        return m;
    }

    @AfterAll
    void putTheMachineBack() throws Exception {
        Cleanup cleanup = new Cleanup();
        cleanup.attempt("destroy " + vm, () -> {
            if (Libvirtd.virsh("domstate", vm).out().strip().equals("running")) {
                Libvirtd.virsh("destroy", vm);
            }
        });
        cleanup.attempt("revert what the journal still holds for " + vm, () -> {
            if (Files.exists(Guest.JOURNAL) && Files.readString(Guest.JOURNAL).contains("\"" + vm + "\"")) {
                Main.run(new PrintWriter(System.err), new PrintWriter(System.err), "revert", vm, "--force");
                cleanup.problem("the journal still listed " + vm + " after the test; reverted it");
            }
        });
        cleanup.attempt("purge the package", () -> {
            if (dpkgCalled && !status().isEmpty()) {
                Cmd.Out purged = dpkg("-P", PACKAGE);
                cleanup.problem("the package was still on the machine (purged: exit " + purged.code() + " " + purged.err() + ")");
            }
        });
        cleanup.attempt("remove the test profile", () -> Files.deleteIfExists(Guest.PROFILES.resolve(vm + ".yaml")));
        cleanup.attempt("put back the log and report directories", () -> {
            for (Path dir : SET_ASIDE) {
                Path saved = setAside(dir);
                if (work != null && Files.exists(saved)) {
                    Cleanup.deleteFilesAndDir(dir); // a purge left none; a failed test may have left a fresh log
                    Files.move(saved, dir);
                }
            }
        });
        cleanup.attempt("refresh libvirtd", () -> {
            if (libvirtd != null) {
                libvirtd.putBack();
            }
        });
        cleanup.attempt("remove " + work, () -> {
            if (work != null) {
                Path unpacked = work.resolve("upgrade");
                if (Files.exists(unpacked)) {
                    try (Stream<Path> all = Files.walk(unpacked)) {
                        for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(p);
                        }
                    }
                }
                Files.deleteIfExists(work.resolve("upgrade.deb"));
                Files.deleteIfExists(work.resolve(vm + ".xml"));
                Files.deleteIfExists(work);
            }
        });
        cleanup.check();
    }
}
