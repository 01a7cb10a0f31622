package org.vfioorchestrator.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.vfioorchestrator.testing.Requires;

/**
 * This machine's libvirtd, for the end-to-end tests: virsh against {@code qemu:///system}; the daemon
 * reloaded or restarted only while it manages no domain but the test's (on a shared machine others'
 * VMs come and go), started only when it was not running, and left as it was found ({@link #putBack}).
 */
final class Libvirtd {
    static final String URI = "qemu:///system";
    /** How long to wait for a moment without others' domains. */
    static final Duration FOREIGN_WAIT = Duration.ofSeconds(120);

    /** The test's own domains. */
    private final List<String> ours;
    final boolean wasRunning;
    boolean weStarted;
    private boolean weStartedVirtlogd;
    private boolean weSignalled;

    Libvirtd(List<String> ours) {
        this.ours = List.copyOf(ours);
        this.wasRunning = pidOf("libvirtd").isPresent();
    }

    /** Skips (fails in CI) unless a running daemon is reachable and manages no domain of others. */
    void requireToItself() throws InterruptedException {
        if (!wasRunning) {
            return;
        }
        Cmd.Out version = virsh("version");
        Requires.that(version.ok(), "libvirtd runs but cannot be reached at " + URI + ": " + version.err().strip());
        List<String> foreign = awaitNoForeignDomains();
        Requires.that(foreign.isEmpty(), "libvirtd must reload to find the hook, but it manages domains of others ("
                + String.join(", ", foreign) + ") and they did not go within " + FOREIGN_WAIT.toSeconds()
                + " s; not touching it. Run the test when they are gone");
    }

    /** libvirt looks for hook programs when it starts or reloads: reload a running daemon, else start one. */
    void findHooks() throws Exception {
        if (wasRunning) {
            reload();
        } else {
            start();
        }
        Cmd.Out version = virsh("version");
        Requires.that(version.ok(), "libvirtd cannot be reached at " + URI + ": " + version.err().strip());
    }

    static Cmd.Out virsh(String... args) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-q", "-c", URI));
        argv.addAll(List.of(args));
        return Cmd.run(Duration.ofMinutes(2), argv.toArray(String[]::new));
    }

    /** Domains libvirtd knows (running or defined) that are not this test's. */
    List<String> foreignDomains() {
        Cmd.Out list = virsh("list", "--all", "--name");
        if (!list.ok()) {
            return List.of("(cannot list domains: " + list.err().strip() + ")");
        }
        return list.out().lines().map(String::strip).filter(n -> !n.isEmpty() && !ours.contains(n)).toList();
    }

    List<String> awaitNoForeignDomains() throws InterruptedException {
        long deadline = System.nanoTime() + FOREIGN_WAIT.toNanos();
        List<String> foreign = foreignDomains();
        while (!foreign.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            foreign = foreignDomains();
        }
        return foreign;
    }

    static boolean systemd() {
        return Files.isDirectory(Path.of("/run/systemd/system"));
    }

    static Optional<Long> pidOf(String comm) {
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.matches("\\d+")) {
                    try {
                        if (Files.readString(p.resolve("comm")).strip().equals(comm)) {
                            return Optional.of(Long.parseLong(name));
                        }
                    } catch (IOException e) {
                        // exited while we looked
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.empty();
    }

    void start() throws Exception {
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(1), "systemctl", "start", "libvirtd").code());
        } else {
            if (pidOf("virtlogd").isEmpty()) {
                Cmd.daemon("virtlogd", "-d");
                weStartedVirtlogd = true;
            }
            Cmd.daemon("libvirtd", "-d");
        }
        weStarted = true;
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer");
    }

    /** SIGHUP: libvirtd looks for hooks again (and reloads its configuration); running VMs are not touched. */
    void reload() throws Exception {
        weSignalled = true;
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(1), "systemctl", "reload", "libvirtd").code());
        } else {
            long pid = pidOf("libvirtd").orElseThrow(() -> new AssertionError("libvirtd is not running"));
            assertEquals(0, Cmd.run(Duration.ofSeconds(10), "kill", "-HUP", Long.toString(pid)).code());
        }
        Thread.sleep(1500); // the reload runs in a thread of its own; it rescans the hooks first
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer after the reload");
    }

    void restart() throws Exception {
        weSignalled = true;
        if (systemd()) {
            assertEquals(0, Cmd.run(Duration.ofMinutes(2), "systemctl", "restart", "libvirtd").code());
        } else {
            stop();
            Cmd.daemon("libvirtd", "-d");
        }
        waitFor(() -> virsh("version").ok(), Duration.ofSeconds(60), "libvirtd to answer after the restart");
    }

    void stop() throws Exception {
        if (systemd()) {
            Cmd.run(Duration.ofMinutes(1), "systemctl", "stop", "libvirtd");
            return;
        }
        Optional<ProcessHandle> h = pidOf("libvirtd").flatMap(ProcessHandle::of);
        if (h.isPresent()) {
            h.get().destroy(); // SIGTERM: libvirtd leaves running VMs alone when it exits
            waitFor(() -> !h.get().isAlive(), Duration.ofSeconds(60), "libvirtd to exit");
        }
    }

    /** Stops a daemon the test started, or reloads one it signalled (forgetting the test's hook), while no one else's domain needs it. */
    void putBack() throws Exception {
        if (weStarted && foreignDomains().isEmpty()) {
            stop();
            if (weStartedVirtlogd) {
                pidOf("virtlogd").ifPresent(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroy));
            }
        } else if (weSignalled && foreignDomains().isEmpty()) {
            reload();
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check check, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    static Optional<Path> onPath(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
