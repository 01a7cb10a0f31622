package org.vfioorchestrator.install;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.install.Manifest.Action;
import org.vfioorchestrator.install.Manifest.Placement;
import org.vfioorchestrator.install.Manifest.Step;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * Installs the program and the libvirt hook, and uninstalls exactly what was installed.
 *
 * <p>Layout: {@code PREFIX/lib/vfio-orchestrator/vfio-orchestrator.jar}, the launcher
 * {@code PREFIX/bin/vfio-orchestrator}, the shim (see {@code hooks/qemu}), and
 * {@code /etc/vfio-orchestrator/profiles/} with the profile template as {@code README}
 * (not {@code *.yaml}: that would be the profile of a VM named like it).
 *
 * <p>The shim goes to {@code hooks/qemu.d/vfio-orchestrator} when libvirt runs that
 * directory (6.5 and later), leaving any {@code hooks/qemu} as it is. Otherwise it becomes
 * {@code hooks/qemu}; a foreign one found there is moved to {@code hooks/qemu.orig} and run
 * first by the shim. Everything is checked before anything changes, and every step is
 * recorded in the manifest before it is carried out.
 */
public final class Installer {
    public static final String CONFIG_DIR = "/etc/vfio-orchestrator";
    public static final String DEFAULT_PREFIX = "/usr/local";
    public static final String DEFAULT_HOOKS = "/etc/libvirt/hooks";
    static final String README = ProfileStore.DIR + "/README";
    /** libvirt looks for hooks when the daemon starts or reloads (SIGHUP), not later: a running one must be told. */
    static String reloadNote(String daemon) {
        return daemon + " is running, and it looks for hooks only when it starts or reloads: run 'systemctl reload "
                + daemon + "' (without systemd: kill -HUP $(pidof " + daemon + ")); running VMs carry on";
    }

    /** "wrote X" -> "would write X", for dry runs. */
    static String would(String done) {
        for (String[] v : new String[][] {{"created ", "create "}, {"wrote ", "write "}, {"moved ", "move "},
                {"updated ", "update "}}) {
            if (done.startsWith(v[0])) {
                return "would " + v[1] + done.substring(v[0].length());
            }
        }
        return "would: " + done;
    }

    private final InstallFs fs;
    private final Consumer<String> out;
    private final CommandRunner commands;

    /**
     * @param out      one line per action, for the user
     * @param commands runs the installed launcher's {@code cds-archive} (live installs only)
     */
    public Installer(Path root, Consumer<String> out) {
        this(root, out, CommandRunner.system());
    }

    public Installer(Path root, Consumer<String> out, CommandRunner commands) {
        this.fs = new InstallFs(root);
        this.out = out;
        this.commands = commands;
    }

    /**
     * @param jar     the jar to install; empty: the one running
     * @param libvirt the libvirt version; empty: unknown (the shim then goes to hooks/qemu, which every version runs)
     */
    public record Request(String prefix, String hooksDir, Optional<LibvirtVersion> libvirt, Optional<Path> jar, boolean dryRun) {
    }

    /** What install did (or would do). */
    public record Result(Manifest manifest, int changes, Optional<String> runningDaemon) {
    }

    // ---- install --------------------------------------------------------------------------

    public Result install(Request req) {
        String prefix = absolute("--prefix", req.prefix());
        String hooks = absolute("--libvirt-hooks", req.hooksDir());
        byte[] jar = readJar(req.jar());
        Optional<Manifest> existing = loadManifest();
        if (existing.isPresent()) {
            Manifest m = existing.get();
            if (!m.prefix().equals(prefix) || !m.hooksDir().equals(hooks)) {
                throw OrchestratorException.data(fs.show(Manifest.PATH) + ": already installed with --prefix " + m.prefix()
                        + " --libvirt-hooks " + m.hooksDir() + "; run 'vfio-orchestrator uninstall' first to move it");
            }
        }
        Placement placement = existing.map(Manifest::placement).orElseGet(() -> placement(req.libvirt(), hooks));
        Manifest start = existing.orElseGet(() -> new Manifest(prefix, hooks,
                req.libvirt().map(LibvirtVersion::toString).orElse(null), placement, Instant.now().toString(), List.of()));
        explainPlacement(start, req.libvirt(), existing.isPresent());

        String lib = prefix + "/lib/vfio-orchestrator";
        String launcher = prefix + "/bin/vfio-orchestrator";
        String orig = hooks + "/qemu.orig";
        String chain = placement == Placement.CHAINED ? orig : null;
        String installedJar = lib + "/vfio-orchestrator.jar";
        String archive = lib + "/vfio-orchestrator.jsa";
        byte[] shim = Resources.shim(ProfileStore.DIR, installedJar, chain);

        List<Op> ops = new ArrayList<>();
        dirs(ops, start, CONFIG_DIR);
        dirs(ops, start, lib);
        file(ops, start, installedJar, jar, false);
        dirs(ops, start, prefix + "/bin");
        file(ops, start, launcher, Resources.bytes(Resources.LAUNCHER), true);
        dirs(ops, start, hooks);
        switch (placement) {
            case HOOK_DIR -> {
                dirs(ops, start, hooks + "/qemu.d");
                file(ops, start, start.hookPath(), shim, true);
            }
            case HOOK_FILE -> file(ops, start, start.hookPath(), shim, true);
            case CHAINED -> {
                if (start.step(Action.MOVE, hooks + "/qemu").isEmpty()) {
                    ops.add(new Op(Step.move(hooks + "/qemu", orig), null, false, "moved " + fs.show(hooks + "/qemu")
                            + " to " + fs.show(orig) + " (the shim runs it first)"));
                    ops.add(new Op(Step.file(start.hookPath(), InstallFs.sha256(shim)), shim, true,
                            "wrote " + fs.show(start.hookPath())));
                } else {
                    file(ops, start, start.hookPath(), shim, true);
                }
            }
        }
        dirs(ops, start, ProfileStore.DIR);
        file(ops, start, README, Resources.bytes(Resources.TEMPLATE), false);

        // the archive belongs to the JDK that writes it: only on the live host, and again for a new jar
        boolean archiveDue = fs.isLive()
                && (!fs.exists(archive) || ops.stream().anyMatch(op -> op.step().path().equals(installedJar)));
        Optional<String> running = runningDaemon();
        if (req.dryRun()) {
            ops.forEach(op -> out.accept(would(op.describe())));
            if (archiveDue) {
                out.accept("would write " + fs.show(archive) + " (vfio-orchestrator cds-archive)");
            }
            if (ops.isEmpty() && !archiveDue) {
                out.accept("nothing to do: already installed as " + fs.show(Manifest.PATH) + " records");
            }
            if (running.isPresent() && !ops.isEmpty()) {
                out.accept(reloadNote(running.get()));
            }
            out.accept("dry run: nothing was changed");
            return new Result(start, ops.size(), running);
        }
        Manifest m = start;
        for (Op op : ops) {
            m = m.with(op.step());
            save(m);
            carryOut(op, hooks);
            save(m);
            out.accept(op.describe());
        }
        save(m);
        int changes = ops.size();
        if (archiveDue) {
            m = m.with(Step.archive(archive));
            save(m); // recorded before it is written: uninstall removes whatever the run leaves
            writeCdsArchive(launcher, archive);
            changes++;
        } else if (!fs.isLive()) {
            out.accept("no class-data-sharing archive in a --root install (it belongs to the JDK that writes it):"
                    + " run 'vfio-orchestrator cds-archive' on the installed host for faster hook calls");
        }
        if (changes == 0) {
            out.accept("already installed, nothing changed (" + fs.show(Manifest.PATH) + ")");
        } else {
            out.accept("recorded in " + fs.show(Manifest.PATH) + "; undo with: vfio-orchestrator uninstall"
                    + (fs.isLive() ? "" : " --root " + fs.root()));
            running.ifPresent(d -> out.accept(reloadNote(d)));
        }
        return new Result(m, changes, running);
    }

    /**
     * Writes the class-data-sharing archive the shim and launcher use (a hook call starts about a
     * third faster with it), by running the installed launcher's {@code cds-archive}: a training run
     * on the bundled example host, nothing of this host is touched. A failure is reported, not fatal:
     * the hook works without it.
     */
    private void writeCdsArchive(String launcher, String archive) {
        out.accept("writing " + fs.show(archive) + ": a training run of the hook on the bundled example host, a few"
                + " seconds (this host is not touched)");
        CommandRunner.Result r = commands.run(List.of(launcher, "cds-archive"), java.time.Duration.ofMinutes(3));
        if (r.exitCode() != 0) {
            String why = r.stderr().strip().lines().reduce((a, b) -> b).orElse("exit code " + r.exitCode());
            out.accept("could not write the class-data-sharing archive " + fs.show(archive) + " (" + why + "); the hook"
                    + " works without it, only slower. Retry with: vfio-orchestrator cds-archive");
            return;
        }
        out.accept("wrote " + fs.show(archive) + " (class-data sharing: the hook's JVM starts faster)");
    }

    /** One planned step, with the bytes for a file. */
    private record Op(Step step, byte[] content, boolean executable, String description) {
        String describe() {
            return description;
        }
    }

    private Placement placement(Optional<LibvirtVersion> libvirt, String hooks) {
        String qemu = hooks + "/qemu";
        Optional<byte[]> current = fs.exists(qemu) ? fs.read(qemu) : Optional.empty();
        if (fs.exists(qemu) && fs.isDirectory(qemu)) {
            throw OrchestratorException.data(fs.show(qemu) + " is a directory; libvirt expects a hook program there."
                    + " Move it away, then install again");
        }
        if (current.isPresent() && Resources.isShim(current.get())) {
            throw OrchestratorException.data(fs.show(qemu) + " is a vfio-orchestrator hook shim that install did not"
                    + " record (copied by hand?): remove it, then install again (or the hook would run twice)");
        }
        if (libvirt.isPresent() && libvirt.get().runsHookDirs()) {
            return Placement.HOOK_DIR;
        }
        if (!fs.exists(qemu)) {
            return Placement.HOOK_FILE;
        }
        if (fs.exists(hooks + "/qemu.orig")) {
            throw OrchestratorException.data(fs.show(hooks + "/qemu.orig") + " exists, and " + fs.show(qemu)
                    + " is another program's hook that would have to move there: move one of them away (or merge"
                    + " them), then install again");
        }
        return Placement.CHAINED;
    }

    private void explainPlacement(Manifest m, Optional<LibvirtVersion> libvirt, boolean again) {
        String version = libvirt.map(v -> "libvirt " + v).orElse("libvirt (version unknown)");
        String text = switch (m.placement()) {
            case HOOK_DIR -> version + " runs every program in " + fs.show(m.hooksDir() + "/qemu.d")
                    + ": the hook goes there; " + fs.show(m.hooksDir() + "/qemu") + (fs.exists(m.hooksDir() + "/qemu")
                    ? " stays as it is and keeps running" : " stays free for other tools");
            case HOOK_FILE -> version + (libvirt.isEmpty() ? " (no libvirtd --version; --libvirt-version tells it)" : "")
                    + ": the hook goes to " + fs.show(m.hooksDir() + "/qemu") + ", which every libvirt runs";
            case CHAINED -> version + " runs only " + fs.show(m.hooksDir() + "/qemu") + (again ? ": the hook is there and runs "
                    : ", which another program uses: it moves to qemu.orig and the hook runs it first, then ")
                    + (again ? fs.show(m.hooksDir() + "/qemu.orig") + " first" : "vfio-orchestrator");
        };
        out.accept(text);
    }

    /** Plans the creation of {@code dir} and its missing parents. */
    private void dirs(List<Op> ops, Manifest m, String dir) {
        List<String> missing = new ArrayList<>();
        for (String d = dir; !d.isEmpty() && !d.equals("/"); d = d.substring(0, Math.max(0, d.lastIndexOf('/')))) {
            if (fs.exists(d) && !fs.isDirectory(d)) {
                throw OrchestratorException.data(fs.show(d) + " is not a directory; the install needs one there."
                        + " Move it away or choose another --prefix");
            }
            String here = d;
            boolean planned = ops.stream().anyMatch(o -> o.step().action() == Action.MKDIR && o.step().path().equals(here));
            if (fs.exists(d) || planned) {
                break;
            }
            missing.add(0, d);
        }
        for (String d : missing) {
            ops.add(new Op(Step.mkdir(d), null, false, "created " + fs.show(d) + "/"));
        }
    }

    /** Plans writing a file: new, an update of one we installed, or nothing when it is already right. */
    private void file(List<Op> ops, Manifest m, String path, byte[] content, boolean executable) {
        boolean ours = m.step(Action.FILE, path).isPresent();
        Step step = Step.file(path, InstallFs.sha256(content));
        if (!fs.exists(path)) {
            ops.add(new Op(step, content, executable, "wrote " + fs.show(path)));
            return;
        }
        if (fs.isDirectory(path)) {
            throw OrchestratorException.data(fs.show(path) + " is a directory; move it away or choose another --prefix");
        }
        byte[] now = fs.read(path).orElse(new byte[0]);
        boolean same = Arrays.equals(now, content) && fs.isExecutable(path) == executable;
        if (same) {
            return; // ours and current, or someone's identical copy, which stays theirs
        }
        if (!ours) {
            throw OrchestratorException.data(fs.show(path) + " exists and was not installed by 'vfio-orchestrator install'"
                    + " (it is not in " + fs.show(Manifest.PATH) + "); move it away or choose another --prefix, then install again");
        }
        ops.add(new Op(step, content, executable, "updated " + fs.show(path)));
    }

    private void carryOut(Op op, String hooks) {
        Step s = op.step();
        switch (s.action()) {
            case MKDIR -> fs.mkdir(s.path());
            case MOVE -> fs.rename(s.path(), s.to());
            case FILE -> {
                String parent = s.path().substring(0, s.path().lastIndexOf('/'));
                // never make a temporary file inside qemu.d: libvirt runs every executable there
                String tempDir = parent.endsWith(".d") ? parent.substring(0, parent.lastIndexOf('/')) : parent;
                fs.writeFile(s.path(), op.content(), op.executable(), tempDir.isEmpty() ? hooks : tempDir);
            }
        }
    }

    private byte[] readJar(Optional<Path> given) {
        Path jar = given.orElseGet(Installer::runningJar);
        if (!Files.isRegularFile(jar)) {
            throw OrchestratorException.data(jar + ": not a jar file. Install from the built jar: mvn -B -DskipTests package,"
                    + " then ./vfio-orchestrator install (or pass --jar FILE)");
        }
        try {
            byte[] bytes = Files.readAllBytes(jar);
            if (bytes.length < 4 || bytes[0] != 'P' || bytes[1] != 'K') {
                throw OrchestratorException.data(jar + ": not a jar (zip) file; pass the shaded jar, e.g."
                        + " orchestrator/target/vfio-orchestrator.jar");
            }
            return bytes;
        } catch (IOException e) {
            throw OrchestratorException.data(jar + ": cannot read: " + e.getMessage());
        }
    }

    /** The jar this code runs from; a class directory (tests, IDE) when not run from a jar. */
    static Path runningJar() {
        try {
            return Path.of(Installer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            throw OrchestratorException.data("cannot tell which jar is running (" + e.getMessage() + "); pass --jar FILE");
        }
    }

    // ---- uninstall ------------------------------------------------------------------------

    /**
     * @param purge also remove the profiles in /etc/vfio-orchestrator/profiles
     * @param force uninstall even while the journal says VMs are isolated
     */
    public record UninstallRequest(Optional<String> prefix, Optional<String> hooksDir, boolean purge, boolean force,
            boolean dryRun) {
    }

    /** What uninstall did; {@code leftAlone} lists what it kept and why. */
    public record UninstallResult(boolean wasInstalled, int changes, List<String> leftAlone) {
    }

    public UninstallResult uninstall(UninstallRequest req) {
        Optional<Manifest> loaded = loadManifest();
        if (loaded.isEmpty()) {
            List<String> strays = new ArrayList<>();
            String hooks = req.hooksDir().map(p -> absolute("--libvirt-hooks", p)).orElse(DEFAULT_HOOKS);
            for (String p : List.of(hooks + "/qemu.d/vfio-orchestrator", hooks + "/qemu")) {
                if (fs.exists(p) && fs.read(p).map(Resources::isShim).orElse(false)) {
                    strays.add(fs.show(p));
                }
            }
            if (!strays.isEmpty()) {
                throw OrchestratorException.data("no install manifest (" + fs.show(Manifest.PATH) + "), but "
                        + String.join(" and ", strays) + " is a vfio-orchestrator hook shim put there by hand: remove it by hand");
            }
            out.accept("nothing to uninstall: no " + fs.show(Manifest.PATH));
            return new UninstallResult(false, 0, List.of());
        }
        Manifest m = loaded.get();
        req.prefix().map(p -> absolute("--prefix", p)).filter(p -> !p.equals(m.prefix())).ifPresent(p -> {
            throw OrchestratorException.data(fs.show(Manifest.PATH) + " says the install used --prefix " + m.prefix()
                    + ", not " + p + "; run uninstall without --prefix");
        });
        req.hooksDir().map(p -> absolute("--libvirt-hooks", p)).filter(p -> !p.equals(m.hooksDir())).ifPresent(p -> {
            throw OrchestratorException.data(fs.show(Manifest.PATH) + " says the hook went to " + m.hooksDir()
                    + ", not " + p + "; run uninstall without --libvirt-hooks");
        });
        checkNothingIsolated(req.force());

        Undo u = new Undo(req.dryRun());
        List<Step> remaining = new ArrayList<>(m.steps());
        boolean manifestGone = false;
        for (int i = m.steps().size() - 1; i >= 0; i--) {
            Step s = m.steps().get(i);
            if (s.action() == Action.MKDIR && s.path().equals(CONFIG_DIR)) {
                u.remove(Manifest.PATH, "");
                manifestGone = true;
            }
            if (s.action() == Action.MKDIR && s.path().equals(ProfileStore.DIR) && req.purge()) {
                purgeProfiles(u);
            }
            undo(s, u);
            remaining.remove(s);
            if (!req.dryRun() && !manifestGone) {
                save(new Manifest(m.prefix(), m.hooksDir(), m.libvirt(), m.placement(), m.installedAt(), remaining));
            }
        }
        if (!manifestGone) {
            if (req.purge()) {
                purgeProfiles(u);
            }
            u.remove(Manifest.PATH, "");
        }
        if (!req.purge()) {
            List<String> profiles = u.list(ProfileStore.DIR).stream().filter(n -> n.endsWith(".yaml")).toList();
            if (!profiles.isEmpty()) {
                out.accept("kept your profiles in " + fs.show(ProfileStore.DIR) + ": " + String.join(", ", profiles)
                        + " (--purge removes them)");
            }
        }
        out.accept(req.dryRun() ? "dry run: nothing was changed"
                : "uninstalled; libvirtd needs no restart (a hook that is gone is skipped)");
        return new UninstallResult(true, u.changes, List.copyOf(u.left));
    }

    /**
     * Carries out (or, in a dry run, only tracks) the removals, so a dry run reports what the
     * real run would do: a directory whose files would be removed counts as empty.
     */
    private final class Undo {
        final boolean dryRun;
        final java.util.Set<String> removed = new java.util.HashSet<>();
        final java.util.Set<String> added = new java.util.HashSet<>();
        final List<String> left = new ArrayList<>();
        int changes;

        Undo(boolean dryRun) {
            this.dryRun = dryRun;
        }

        boolean exists(String p) {
            return added.contains(p) || (!removed.contains(p) && fs.exists(p));
        }

        List<String> list(String dir) {
            java.util.TreeSet<String> names = new java.util.TreeSet<>();
            for (String n : fs.list(dir)) {
                if (!removed.contains(dir + "/" + n)) {
                    names.add(n);
                }
            }
            for (String p : added) {
                if (p.startsWith(dir + "/") && p.indexOf('/', dir.length() + 1) < 0) {
                    names.add(p.substring(dir.length() + 1));
                }
            }
            return List.copyOf(names);
        }

        void remove(String p, String why) {
            if (!exists(p)) {
                return;
            }
            boolean dir = fs.isDirectory(p);
            if (!dryRun) {
                if (dir && !fs.rmdirIfEmpty(p)) {
                    keep(fs.show(p) + "/: something appeared in it", false);
                    return;
                } else if (!dir) {
                    fs.delete(p);
                }
            }
            removed.add(p);
            added.remove(p);
            changes++;
            out.accept((dryRun ? "would remove " : "removed ") + fs.show(p) + (dir ? "/" : "") + why);
        }

        void moveBack(String from, String to) {
            if (!dryRun) {
                fs.rename(from, to);
            }
            removed.add(from);
            added.remove(from);
            added.add(to);
            removed.remove(to);
            changes++;
            out.accept((dryRun ? "would move " : "moved ") + fs.show(from) + " back to " + fs.show(to));
        }

        void keep(String why, boolean problem) {
            if (problem) {
                left.add(why);
            }
            out.accept("kept " + why);
        }
    }

    private void undo(Step s, Undo u) {
        switch (s.action()) {
            case FILE -> {
                if (!u.exists(s.path())) {
                    return;
                }
                byte[] now = fs.read(s.path()).orElse(new byte[0]);
                if (!InstallFs.sha256(now).equals(s.sha256())) {
                    u.keep(fs.show(s.path()) + ": it changed since install (remove it by hand if you do not need it)", true);
                    return;
                }
                u.remove(s.path(), "");
            }
            case MOVE -> {
                if (!u.exists(s.to())) {
                    u.keep("nothing at " + fs.show(s.path()) + ": " + fs.show(s.to()) + ", which install moved aside, is gone", true);
                } else if (u.exists(s.path())) {
                    u.keep(fs.show(s.to()) + ": " + fs.show(s.path()) + " is still there, so it cannot move back; sort"
                            + " the two out by hand", true);
                } else {
                    u.moveBack(s.to(), s.path());
                }
            }
            case ARCHIVE -> u.remove(s.path(), " (class-data-sharing archive)");
            case MKDIR -> {
                if (!u.exists(s.path())) {
                    return;
                }
                List<String> inside = u.list(s.path());
                if (!inside.isEmpty()) {
                    // not a problem: it holds something that is not the install's (your profiles, say)
                    u.keep(fs.show(s.path()) + "/: it holds " + String.join(", ", inside.stream().limit(5).toList())
                            + (inside.size() > 5 ? ", ..." : ""), false);
                    return;
                }
                u.remove(s.path(), "");
            }
        }
    }

    /** --purge: every file directly in the profiles directory (sub-directories are left: not ours to judge). */
    private void purgeProfiles(Undo u) {
        for (String name : u.list(ProfileStore.DIR)) {
            String p = ProfileStore.DIR + "/" + name;
            if (!p.equals(README) && !fs.isDirectory(p)) {
                u.remove(p, " (--purge)");
            }
        }
    }

    /** Uninstalling while VMs are isolated would leave nothing to put the host back when they stop. */
    private void checkNothingIsolated(boolean force) {
        HostFs host = HostFs.open(fs.root());
        if (!host.exists(JournalStore.JOURNAL)) {
            return;
        }
        String who;
        try {
            who = new JournalStore(host).load().map(j -> String.join(", ", j.vms().keySet())).orElse("");
        } catch (RuntimeException e) {
            who = "";
        }
        String message = "the journal " + host.resolve(JournalStore.JOURNAL) + " says " + (who.isEmpty() ? "the host is"
                : "VM(s) " + who + " are") + " isolated now; without the hook nothing puts the host back when they stop."
                + " Shut them down (or run 'vfio-orchestrator revert --all') first";
        if (!force) {
            throw OrchestratorException.state(message + ", or add --force");
        }
        out.accept("warning: " + message);
    }

    // ---- shared ---------------------------------------------------------------------------

    /** Where install put the hook under {@code root}, as its manifest says, for 'status'; empty when not installed. */
    public static Optional<String> installedHook(Path root) {
        InstallFs fs = new InstallFs(root);
        try {
            return fs.read(Manifest.PATH).map(b -> {
                String hook = Manifest.parse(b, fs.show(Manifest.PATH)).hookPath();
                return fs.show(hook) + (fs.exists(hook) ? "" : " (missing: run 'vfio-orchestrator install' again)");
            });
        } catch (RuntimeException e) {
            return Optional.of("unknown: " + e.getMessage());
        }
    }

    private Optional<Manifest> loadManifest() {
        if (fs.isSymlink(Manifest.PATH)) {
            throw OrchestratorException.data(fs.show(Manifest.PATH) + " is a symlink; refusing it. Remove it");
        }
        return fs.read(Manifest.PATH).map(b -> Manifest.parse(b, fs.show(Manifest.PATH)));
    }

    /** Saves the manifest once its directory exists (the directory is the first thing install makes). */
    private void save(Manifest m) {
        if (fs.isDirectory(CONFIG_DIR)) {
            fs.writeFile(Manifest.PATH, m.toBytes(), false, CONFIG_DIR);
        }
    }

    /** The libvirt daemon that runs the qemu driver, if one is running: libvirtd, or virtqemud (split daemons). */
    private Optional<String> runningDaemon() {
        HostFs host = HostFs.open(fs.root());
        for (String pid : host.list("/proc")) {
            if (KernelText.isNumber(pid)) {
                try {
                    String comm = host.read("/proc/" + pid + "/comm").orElse("").strip();
                    if (comm.equals("libvirtd") || comm.equals("virtqemud")) {
                        return Optional.of(comm);
                    }
                } catch (RuntimeException e) {
                    // exited while we looked
                }
            }
        }
        return Optional.empty();
    }

    private static String absolute(String option, String path) {
        if (path == null || !path.startsWith("/") || path.contains("\n") || path.contains("\0")
                || Arrays.asList(path.split("/")).contains("..")) {
            throw OrchestratorException.usage(option + " " + path + ": give an absolute directory such as /usr/local");
        }
        String p = Path.of(path).normalize().toString();
        return p.equals("/") ? "" : p;
    }
}
