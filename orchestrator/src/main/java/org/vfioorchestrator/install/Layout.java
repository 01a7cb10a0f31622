package org.vfioorchestrator.install;

import java.nio.file.Path;
import java.util.List;
import org.vfioorchestrator.install.Manifest.Placement;
import org.vfioorchestrator.install.Manifest.Step;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * Every path install writes, from the two directories it is given: the program under {@code prefix}
 * and the hook under libvirt's {@code hooks} directory. Install takes its targets from here, and
 * uninstall acts only on a manifest step this allows (so a manifest someone edited cannot name
 * another file).
 *
 * @param prefix where the program goes ({@code /usr/local}; the empty string for {@code /})
 * @param hooks  libvirt's hook directory ({@code /etc/libvirt/hooks})
 */
record Layout(String prefix, String hooks) {
    static final String CONFIG_DIR = "/etc/vfio-orchestrator";
    static final String README = ProfileStore.DIR + "/README";
    static final String NAME = "vfio-orchestrator";

    String lib() {
        return prefix + "/lib/" + NAME;
    }

    String jar() {
        return lib() + "/" + NAME + ".jar";
    }

    /** The class-data-sharing archive beside the jar (the launcher's and the shim's {@code ${jar%.jar}.jsa}). */
    String archive() {
        return lib() + "/" + NAME + ".jsa";
    }

    String bin() {
        return prefix + "/bin";
    }

    String launcher() {
        return bin() + "/" + NAME;
    }

    String manDir() {
        return prefix + "/share/man/man1";
    }

    String completionDir() {
        return prefix + "/share/bash-completion/completions";
    }

    /** bash-completion loads a command's completion from a file named like the command, on first use. */
    String completion() {
        return completionDir() + "/" + NAME;
    }

    /**
     * Where zsh looks for completion functions on Debian: its packages' in /usr/share/zsh/vendor-completions,
     * local ones in /usr/local/share/zsh/site-functions (zsh's own convention, on most distributions' path too).
     */
    String zshCompletionDir() {
        return prefix + (prefix.equals("/usr") ? "/share/zsh/vendor-completions" : "/share/zsh/site-functions");
    }

    /** compinit autoloads the function {@code _vfio-orchestrator} from the file of that name ({@code #compdef}). */
    String zshCompletion() {
        return zshCompletionDir() + "/_" + NAME;
    }

    String hookDir() {
        return hooks + "/qemu.d";
    }

    String qemu() {
        return hooks + "/qemu";
    }

    /** Where a foreign hooks/qemu goes when the shim takes its place (and runs it first). */
    String qemuOrig() {
        return hooks + "/qemu.orig";
    }

    String hookPath(Placement placement) {
        return placement == Placement.HOOK_DIR ? hookDir() + "/" + NAME : qemu();
    }

    /** The directories install makes when they are missing, with their missing parents. */
    List<String> dirs(Placement placement) {
        return placement == Placement.HOOK_DIR
                ? List.of(CONFIG_DIR, lib(), bin(), manDir(), completionDir(), zshCompletionDir(), hooks, hookDir(), ProfileStore.DIR)
                : List.of(CONFIG_DIR, lib(), bin(), manDir(), completionDir(), zshCompletionDir(), hooks, ProfileStore.DIR);
    }

    /** Whether install could have done {@code step} with this layout and placement. */
    boolean allows(Step step, Placement placement) {
        String p = step.path();
        return switch (step.action()) {
            case MKDIR -> dirs(placement).stream().anyMatch(d -> d.equals(p) || d.startsWith(p + "/"));
            case FILE -> p.equals(jar()) || p.equals(launcher()) || p.equals(hookPath(placement)) || p.equals(README)
                    || p.equals(completion()) || p.equals(zshCompletion()) || p.equals(manDir() + "/" + name(p)) && Resources.isManPageName(name(p));
            case MOVE -> placement == Placement.CHAINED && p.equals(qemu()) && qemuOrig().equals(step.to());
            case ARCHIVE -> p.equals(archive());
        };
    }

    /**
     * An absolute, normalised directory for {@code --prefix} or {@code --libvirt-hooks} (no {@code .} or
     * {@code ..}, no doubled or trailing slash); {@code /} becomes the empty string. Null when it is not one.
     */
    static String directory(String path) {
        if ("/".equals(path)) {
            return "";
        }
        return path != null && isPlainPath(path) ? path : null;
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** An absolute path spelled one way only: no empty, "." or ".." segment, no trailing slash, no control character. */
    static boolean isPlainPath(String path) {
        return path.startsWith("/") && path.length() > 1 && !path.endsWith("/")
                && path.chars().noneMatch(c -> c < 0x20 || c == 0x7f) && Path.of(path).normalize().toString().equals(path);
    }
}
