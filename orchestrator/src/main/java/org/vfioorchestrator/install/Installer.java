package org.vfioorchestrator.install;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.install.Manifest.Action;
import org.vfioorchestrator.install.Manifest.Placement;
import org.vfioorchestrator.install.Manifest.Step;
import org.vfioorchestrator.process.CommandRunner;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * Installs the program and the libvirt hook; {@link Uninstaller} removes exactly what was installed.
 *
 * <p>Layout ({@link Layout}): {@code PREFIX/lib/vfio-orchestrator/vfio-orchestrator.jar}, the launcher
 * {@code PREFIX/bin/vfio-orchestrator}, man pages in {@code PREFIX/share/man/man1/}, the bash
 * completion in {@code PREFIX/share/bash-completion/completions/} and the zsh one where zsh looks
 * ({@link Layout#zshCompletionDir}), the shim (see {@code hooks/qemu}),
 * and {@code /etc/vfio-orchestrator/profiles/} with the profile template as {@code README}
 * (not {@code *.yaml}: that would be the profile of a VM named like it).
 *
 * <p>The shim goes to {@code hooks/qemu.d/vfio-orchestrator} when libvirt runs that
 * directory (6.5 and later), leaving any {@code hooks/qemu} as it is. Otherwise it becomes
 * {@code hooks/qemu}; a foreign one found there is moved to {@code hooks/qemu.orig} and run
 * first by the shim. Everything is checked before anything changes, and every step is
 * recorded in the manifest before it is carried out. A file already in place with exactly the
 * content install would write (a package's, say) is left as it is and not recorded: it stays
 * whoever's it was.
 */
public final class Installer {
    public static final String DEFAULT_PREFIX = "/usr/local";
    public static final String DEFAULT_HOOKS = "/etc/libvirt/hooks";

    /** "wrote X" -> "would write X", for dry runs. */
    static String would(String done) {
        for (String[] v : new String[][] {{"created ", "create "}, {"wrote ", "write "}, {"moved ", "move "},
                {"updated ", "update "}, {"removed ", "remove "}}) {
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
    public Installer(Path root, Consumer<String> out, CommandRunner commands) {
        this.fs = new InstallFs(root);
        this.out = out;
        this.commands = commands;
    }

    /**
     * @param jar         the jar to install; empty: the one running
     * @param libvirt     the libvirt version; empty: unknown (the shim then goes to hooks/qemu, which every version runs)
     * @param packageName the distribution package whose maintainer script runs this, if one does
     */
    public record Request(String prefix, String hooksDir, Optional<LibvirtVersion> libvirt, Optional<Path> jar,
            Optional<String> packageName, boolean dryRun) {
    }

    /** What install did (or would do). */
    public record Result(Manifest manifest, int changes, Optional<String> runningDaemon) {
    }

    public Result install(Request req) {
        String prefix = InstallOptions.directoryOption("--prefix", req.prefix());
        String hooks = InstallOptions.directoryOption("--libvirt-hooks", req.hooksDir());
        String pkg = req.packageName().map(InstallOptions::packageOption).orElse(null);
        byte[] jar = readJar(req.jar());
        Optional<Manifest> existing = fs.loadManifest();
        if (existing.isPresent()) {
            Manifest m = existing.get();
            if (m.packageName() != null && !m.packageName().equals(pkg)) {
                throw OrchestratorException.data(fs.show(Manifest.PATH) + ": the package " + m.packageName()
                        + " installed it; update it with the package manager, or remove the package first (apt remove "
                        + m.packageName() + ")");
            }
            if (m.packageName() == null && pkg != null) {
                throw OrchestratorException.data(fs.show(Manifest.PATH) + ": already installed by hand (in " + m.prefix()
                        + "); run 'vfio-orchestrator uninstall' first, then set the package " + pkg + " up again"
                        + " (dpkg --configure -a)");
            }
            if (!m.prefix().equals(prefix) || !m.hooksDir().equals(hooks)) {
                throw OrchestratorException.data(fs.show(Manifest.PATH) + ": already installed with --prefix " + m.prefix()
                        + " --libvirt-hooks " + m.hooksDir() + "; run 'vfio-orchestrator uninstall' first to move it");
            }
        }
        Layout layout = new Layout(prefix, hooks);
        Placement placement = existing.map(Manifest::placement).orElseGet(() -> placement(req.libvirt(), layout));
        Manifest start = existing.orElseGet(() -> new Manifest(prefix, hooks,
                req.libvirt().map(LibvirtVersion::toString).orElse(null), placement, Instant.now().toString(), pkg, List.of()));
        explainPlacement(start, req.libvirt(), existing.isPresent());

        String chain = placement == Placement.CHAINED ? layout.qemuOrig() : null;
        byte[] shim = Resources.shim(ProfileStore.DIR, layout.jar(), chain);

        List<Op> ops = new ArrayList<>();
        Set<String> files = new HashSet<>(); // every file this version installs, written now or already right
        dirs(ops, Layout.CONFIG_DIR);
        dirs(ops, layout.lib());
        file(ops, files, start, layout.jar(), jar, false);
        dirs(ops, layout.bin());
        file(ops, files, start, layout.launcher(), Resources.bytes(Resources.LAUNCHER), true);
        dirs(ops, layout.manDir());
        for (String page : Resources.manPages()) {
            file(ops, files, start, layout.manDir() + "/" + page, Resources.bytes("man/" + page), false);
        }
        dirs(ops, layout.completionDir());
        file(ops, files, start, layout.completion(), Resources.bytes(Resources.COMPLETION), false);
        dirs(ops, layout.zshCompletionDir());
        file(ops, files, start, layout.zshCompletion(), Resources.bytes(Resources.ZSH_COMPLETION), false);
        dirs(ops, hooks);
        switch (placement) {
            case HOOK_DIR -> {
                dirs(ops, layout.hookDir());
                file(ops, files, start, start.hookPath(), shim, true);
            }
            case HOOK_FILE -> file(ops, files, start, start.hookPath(), shim, true);
            case CHAINED -> {
                if (start.step(Action.MOVE, layout.qemu()).isEmpty()) {
                    ops.add(new Op(Step.move(layout.qemu(), layout.qemuOrig()), null, false, "moved " + fs.show(layout.qemu())
                            + " to " + fs.show(layout.qemuOrig()) + " (the shim runs it first)"));
                    ops.add(new Op(Step.file(start.hookPath(), InstallFs.sha256(shim)), shim, true,
                            "wrote " + fs.show(start.hookPath())));
                    files.add(start.hookPath());
                } else {
                    file(ops, files, start, start.hookPath(), shim, true);
                }
            }
        }
        dirs(ops, ProfileStore.DIR);
        file(ops, files, start, Layout.README, Resources.bytes(Resources.TEMPLATE), false);
        earlierVersionsFiles(ops, files, start);

        String jarSha = InstallFs.sha256(jar);
        boolean archiveDue = fs.isLive() && CdsArchive.due(fs, start, layout.archive(), jarSha);
        Optional<String> running = LibvirtDaemon.running(fs.root());
        if (req.dryRun()) {
            ops.forEach(op -> out.accept(would(op.describe())));
            if (archiveDue) {
                out.accept("would write " + fs.show(layout.archive()) + " (vfio-orchestrator cds-archive)");
            }
            if (ops.isEmpty() && !archiveDue) {
                out.accept("nothing to do: already installed as " + fs.show(Manifest.PATH) + " records");
            }
            if (running.isPresent() && !ops.isEmpty()) {
                out.accept(LibvirtDaemon.reloadNote(running.get()));
            }
            out.accept("dry run: nothing was changed");
            return new Result(start, ops.size(), running);
        }
        Manifest m = start;
        for (Op op : ops) {
            if (op.removal()) {
                fs.delete(op.step().path());
                m = m.without(op.step()); // after the removal: uninstall skips a recorded file that is gone
            } else {
                m = m.with(op.step());
                save(m);
                carryOut(op, hooks);
            }
            save(m);
            out.accept(op.describe());
        }
        save(m);
        int changes = ops.size();
        if (archiveDue) {
            m = m.with(Step.archive(layout.archive(), null, jarSha));
            save(m); // recorded before it is written: uninstall removes whatever the run leaves
            boolean written = CdsArchive.write(fs, out, commands, layout.launcher(), layout.archive());
            Optional<byte[]> archive = fs.read(layout.archive());
            m = m.with(Step.archive(layout.archive(), archive.map(InstallFs::sha256).orElse(null), written ? jarSha : null));
            save(m);
            changes++;
        } else if (!fs.isLive()) {
            out.accept("no class-data-sharing archive in a --root install (it belongs to the JDK that writes it):"
                    + " run 'vfio-orchestrator cds-archive' on the installed host for faster hook calls");
        }
        if (changes == 0) {
            out.accept("already installed, nothing changed (" + fs.show(Manifest.PATH) + ")");
        } else {
            out.accept("recorded in " + fs.show(Manifest.PATH) + "; undo with: " + (pkg != null ? "apt remove " + pkg
                    : "vfio-orchestrator uninstall" + (fs.isLive() ? "" : " --root " + fs.root())));
            running.ifPresent(d -> out.accept(LibvirtDaemon.reloadNote(d)));
        }
        return new Result(m, changes, running);
    }

    /** One planned step, with the bytes for a file; {@code removal}: the FILE step's file goes, and the step with it. */
    private record Op(Step step, byte[] content, boolean executable, String description, boolean removal) {
        Op(Step step, byte[] content, boolean executable, String description) {
            this(step, content, executable, description, false);
        }

        String describe() {
            return description;
        }
    }

    private Placement placement(Optional<LibvirtVersion> libvirt, Layout layout) {
        String qemu = layout.qemu();
        if (fs.exists(qemu) && fs.isDirectory(qemu)) {
            throw OrchestratorException.data(fs.show(qemu) + " is a directory; libvirt expects a hook program there."
                    + " Move it away, then install again");
        }
        // a symlink there is someone's hook: it moves aside as the link itself, never read through
        Optional<byte[]> current = fs.isSymlink(qemu) ? Optional.empty() : fs.read(qemu);
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
        if (fs.exists(layout.qemuOrig())) {
            throw OrchestratorException.data(fs.show(layout.qemuOrig()) + " exists, and " + fs.show(qemu)
                    + " is another program's hook that would have to move there: move one of them away (or merge"
                    + " them), then install again");
        }
        return Placement.CHAINED;
    }

    private void explainPlacement(Manifest m, Optional<LibvirtVersion> libvirt, boolean again) {
        String version = libvirt.map(v -> "libvirt " + v).orElse("libvirt (version unknown)");
        Layout layout = m.layout();
        String text = switch (m.placement()) {
            case HOOK_DIR -> version + " runs every program in " + fs.show(layout.hookDir())
                    + ": the hook goes there; " + fs.show(layout.qemu()) + (fs.exists(layout.qemu())
                    ? " stays as it is and keeps running" : " stays free for other tools");
            case HOOK_FILE -> version + (libvirt.isEmpty() ? " (no libvirtd --version; --libvirt-version tells it)" : "")
                    + ": the hook goes to " + fs.show(layout.qemu()) + ", which every libvirt runs";
            case CHAINED -> version + " runs only " + fs.show(layout.qemu()) + (again ? ": the hook is there and runs "
                    : ", which another program uses: it moves to qemu.orig and the hook runs it first, then ")
                    + (again ? fs.show(layout.qemuOrig()) + " first" : "vfio-orchestrator");
        };
        out.accept(text);
    }

    /** Plans the creation of {@code dir} and its missing parents. */
    private void dirs(List<Op> ops, String dir) {
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

    /**
     * Plans removing what an earlier version installed and this one does not (a man page renamed, say): only
     * while it holds what was written, as uninstall would; one changed since stays for uninstall to name.
     */
    private void earlierVersionsFiles(List<Op> ops, Set<String> files, Manifest m) {
        for (Step s : m.steps()) {
            if (s.action() == Action.FILE && !files.contains(s.path()) && fs.isRegularFile(s.path())
                    && InstallFs.sha256(fs.read(s.path()).orElseThrow()).equals(s.sha256())) {
                ops.add(new Op(s, null, false, "removed " + fs.show(s.path()) + " (an earlier version's; this one does"
                        + " not install it)", true));
            }
        }
    }

    /** Plans writing a file: new, an update of one we installed, or nothing when it is already right. */
    private void file(List<Op> ops, Set<String> files, Manifest m, String path, byte[] content, boolean executable) {
        files.add(path);
        boolean ours = m.step(Action.FILE, path).isPresent();
        Step step = Step.file(path, InstallFs.sha256(content));
        if (!fs.exists(path)) {
            ops.add(new Op(step, content, executable, "wrote " + fs.show(path)));
            return;
        }
        if (fs.isDirectory(path)) {
            throw OrchestratorException.data(fs.show(path) + " is a directory; move it away or choose another --prefix");
        }
        if (!fs.isRegularFile(path)) {
            throw OrchestratorException.data(fs.show(path) + " is a symlink or not a regular file; install writes a file"
                    + " there: move it away or choose another --prefix, then install again");
        }
        byte[] now = fs.read(path).orElse(new byte[0]);
        boolean same = Arrays.equals(now, content) && fs.isExecutable(path) == executable;
        if (same) {
            return; // ours and current, or someone's identical copy (a package's), which stays theirs
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
            case ARCHIVE -> throw new IllegalStateException("the archive is written by cds-archive, not planned");
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

    /** Where install put the hook under {@code root}, as its manifest says, for 'status'; empty when not installed. */
    public static Optional<String> installedHook(Path root) {
        InstallFs fs = new InstallFs(root);
        try {
            return fs.loadManifest().map(m -> fs.show(m.hookPath())
                    + (fs.exists(m.hookPath()) ? "" : " (missing: run 'vfio-orchestrator install' again)"));
        } catch (RuntimeException e) {
            return Optional.of("unknown: " + e.getMessage());
        }
    }

    /** Saves the manifest once its directory exists (the directory is the first thing install makes). */
    private void save(Manifest m) {
        if (fs.isDirectory(Layout.CONFIG_DIR)) {
            fs.saveManifest(m);
        }
    }
}
