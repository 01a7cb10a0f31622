package org.vfioorchestrator.install;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.install.Manifest.Action;
import org.vfioorchestrator.install.Manifest.Step;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * Undoes what {@link Installer} did, as its manifest records it, newest step first: removes the
 * files it wrote while they still hold what it wrote (the hash), moves a {@code hooks/qemu} it
 * moved aside back, and removes the directories it created once they are empty. Only a manifest
 * root could have written, naming only paths install writes, is acted on ({@link InstallFs#loadManifest}).
 */
public final class Uninstaller {
    private final InstallFs fs;
    private final Consumer<String> out;

    /** @param out one line per action, for the user */
    public Uninstaller(Path root, Consumer<String> out) {
        this.fs = new InstallFs(root);
        this.out = out;
    }

    /**
     * @param packageName the distribution package whose maintainer script runs this (its prerm), if one does
     * @param purge       also remove the profiles in /etc/vfio-orchestrator/profiles
     * @param force       uninstall even while the journal says VMs are isolated
     */
    public record Request(Optional<String> prefix, Optional<String> hooksDir, Optional<String> packageName, boolean purge,
            boolean force, boolean dryRun) {
    }

    /** What uninstall did; {@code leftAlone} lists what it kept and why. */
    public record Result(boolean wasInstalled, int changes, List<String> leftAlone) {
    }

    public Result uninstall(Request req) {
        Optional<Manifest> loaded = fs.loadManifest();
        if (loaded.isEmpty()) {
            refuseHandMadeShims(req.hooksDir().map(p -> InstallOptions.directoryOption("--libvirt-hooks", p))
                    .orElse(Installer.DEFAULT_HOOKS));
            out.accept("nothing to uninstall: no " + fs.show(Manifest.PATH));
            return new Result(false, 0, List.of());
        }
        Manifest m = loaded.get();
        String pkg = req.packageName().map(InstallOptions::packageOption).orElse(null);
        if (m.packageName() != null && !m.packageName().equals(pkg)) {
            throw OrchestratorException.data(fs.show(Manifest.PATH) + ": the package " + m.packageName() + " installed it;"
                    + " remove it with the package manager (apt remove " + m.packageName() + "), which runs this uninstall");
        }
        if (m.packageName() == null && pkg != null) {
            // the package's own install never happened (one by hand was in the way): that one is not the package's
            out.accept("nothing of the package " + pkg + " to uninstall: " + fs.show(Manifest.PATH) + " records an install"
                    + " by hand, which 'vfio-orchestrator uninstall' removes");
            return new Result(false, 0, List.of());
        }
        req.prefix().map(p -> InstallOptions.directoryOption("--prefix", p)).filter(p -> !p.equals(m.prefix())).ifPresent(p -> {
            throw OrchestratorException.data(fs.show(Manifest.PATH) + " says the install used --prefix " + m.prefix()
                    + ", not " + p + "; run uninstall without --prefix");
        });
        req.hooksDir().map(p -> InstallOptions.directoryOption("--libvirt-hooks", p)).filter(p -> !p.equals(m.hooksDir()))
                .ifPresent(p -> {
                    throw OrchestratorException.data(fs.show(Manifest.PATH) + " says the hook went to " + m.hooksDir()
                            + ", not " + p + "; run uninstall without --libvirt-hooks");
                });
        checkNothingIsolated(req.force());

        Undo u = new Undo(req.dryRun());
        List<Step> remaining = new ArrayList<>(m.steps());
        boolean manifestGone = false;
        for (int i = m.steps().size() - 1; i >= 0; i--) {
            Step s = m.steps().get(i);
            if (s.action() == Action.MKDIR && s.path().equals(Layout.CONFIG_DIR)) {
                u.remove(Manifest.PATH, "");
                manifestGone = true;
            }
            if (s.action() == Action.MKDIR && s.path().equals(ProfileStore.DIR) && req.purge()) {
                purgeProfiles(u);
            }
            undo(s, u);
            remaining.remove(s);
            if (!req.dryRun() && !manifestGone) {
                fs.saveManifest(m.withSteps(remaining));
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
                        + (pkg != null ? " (apt purge " + pkg + " removes them)" : " (--purge removes them)"));
            }
        }
        out.accept(req.dryRun() ? "dry run: nothing was changed"
                : "uninstalled; libvirtd needs no restart (a hook that is gone is skipped)");
        return new Result(true, u.changes, List.copyOf(u.left));
    }

    /** Without a manifest nothing is removed, but a shim copied by hand would keep running: say so. */
    private void refuseHandMadeShims(String hooks) {
        List<String> strays = new ArrayList<>();
        for (String p : List.of(hooks + "/qemu.d/" + Layout.NAME, hooks + "/qemu")) {
            if (fs.isRegularFile(p) && fs.read(p).map(Resources::isShim).orElse(false)) {
                strays.add(fs.show(p));
            }
        }
        if (!strays.isEmpty()) {
            throw OrchestratorException.data("no install manifest (" + fs.show(Manifest.PATH) + "), but "
                    + String.join(" and ", strays) + " is a vfio-orchestrator hook shim put there by hand: remove it by hand");
        }
    }

    /**
     * Carries out (or, in a dry run, only tracks) the removals, so a dry run reports what the
     * real run would do: a directory whose files would be removed counts as empty.
     */
    private final class Undo {
        final boolean dryRun;
        final Set<String> removed = new HashSet<>();
        final Set<String> added = new HashSet<>();
        final List<String> left = new ArrayList<>();
        int changes;

        Undo(boolean dryRun) {
            this.dryRun = dryRun;
        }

        boolean exists(String p) {
            return added.contains(p) || (!removed.contains(p) && fs.exists(p));
        }

        List<String> list(String dir) {
            TreeSet<String> names = new TreeSet<>();
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
                if (!fs.isRegularFile(s.path())) {
                    u.keep(fs.show(s.path()) + ": it is no longer the file install wrote (now a symlink, directory or"
                            + " special file); look at it and remove it by hand", true);
                } else if (!InstallFs.sha256(fs.read(s.path()).orElseThrow()).equals(s.sha256())) {
                    u.keep(fs.show(s.path()) + ": it changed since install (remove it by hand if you do not need it)", true);
                } else {
                    u.remove(s.path(), "");
                }
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
            case ARCHIVE -> {
                if (!u.exists(s.path())) {
                    return;
                }
                if (fs.isRegularFile(s.path()) && isOurArchive(s)) {
                    u.remove(s.path(), " (class-data-sharing archive)");
                } else {
                    u.keep(fs.show(s.path()) + ": it is not the class-data-sharing archive install or cds-archive wrote;"
                            + " look at it and remove it by hand", true);
                }
            }
            case MKDIR -> {
                if (!u.exists(s.path())) {
                    return;
                }
                if (!fs.isDirectory(s.path())) {
                    u.keep(fs.show(s.path()) + ": it is no longer the directory install made (now a symlink or file);"
                            + " look at it and remove it by hand", true);
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

    /**
     * The archive install wrote (its hash), or one 'cds-archive' wrote over it since, as the README says to
     * after a JDK update: a JDK class-data-sharing archive (its magic number; no other file starts so).
     */
    private boolean isOurArchive(Step s) {
        byte[] now = fs.read(s.path()).orElseThrow();
        return InstallFs.sha256(now).equals(s.sha256()) || isCdsArchive(now);
    }

    /** HotSpot's dynamic archive magic 0xf00baba8 (CDS_DYNAMIC_ARCHIVE_MAGIC), in either byte order. */
    static boolean isCdsArchive(byte[] b) {
        return b.length >= 4 && (b[0] == (byte) 0xa8 && b[1] == (byte) 0xab && b[2] == 0x0b && b[3] == (byte) 0xf0
                || b[0] == (byte) 0xf0 && b[1] == 0x0b && b[2] == (byte) 0xab && b[3] == (byte) 0xa8);
    }

    /** --purge: every file directly in the profiles directory (sub-directories are left: not ours to judge). */
    private void purgeProfiles(Undo u) {
        for (String name : u.list(ProfileStore.DIR)) {
            String p = ProfileStore.DIR + "/" + name;
            if (!p.equals(Layout.README) && !fs.isDirectory(p)) {
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
}
