package org.vfioorchestrator.profile;

import java.nio.file.Path;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.FileFacts;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.TrustedFile;

/**
 * Where installed profiles live ({@code /etc/vfio-orchestrator/profiles/VM.yaml})
 * and the checks before one is trusted: a safe VM name, a regular file owned by
 * root (or us) that nobody else can write, in directories nobody else can write
 * either, like sudo and sshd insist on.
 */
public final class ProfileStore {
    public static final String DIR = "/etc/vfio-orchestrator/profiles";

    private ProfileStore() {
    }

    /** Refuses names that could leave the profile or state directories: '/', '..', NUL, newlines, very long. */
    public static String checkVmName(String vm) {
        if (!isSafeName(vm) || vm.contains("..")) {
            throw OrchestratorException.data("VM name '" + shown(vm)
                    + "' is not supported: use letters, digits, '.', '_', '+' and '-' (at most 128, no '..')");
        }
        return vm;
    }

    /**
     * libvirt allows more, but a name that is also a safe file name is all a profile needs: 1 to 128
     * letters, digits, '_', '.', '+' and '-', not starting with one of the last four.
     */
    static boolean isSafeName(String vm) {
        if (vm == null || vm.isEmpty() || vm.length() > 128) {
            return false;
        }
        for (int i = 0; i < vm.length(); i++) {
            char c = vm.charAt(i);
            boolean alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || "_.+-".indexOf(c) < 0)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A VM name as it may appear in a message, whatever it holds: at most 40 characters, and control
     * characters and line separators (which would add lines to libvirt's error or a log) as '?'.
     */
    public static String shown(String vm) {
        if (vm == null) {
            return "null";
        }
        String s = vm.length() > 40 ? vm.substring(0, 40) + "..." : vm;
        return s.replaceAll("[\\p{Cc}\\u2028\\u2029]", "?");
    }

    public static String pathOf(String vm) {
        return DIR + "/" + checkVmName(vm) + ".yaml";
    }

    /**
     * The VM's installed profile, if it has one, read the way sudo reads its files ({@link TrustedFile}):
     * every directory from / down to the profiles directory root's (or ours) and writable by nobody else,
     * none a link; the file itself, not followed if a link, passes {@link #checkTrusted} before it is opened.
     */
    public static Optional<ProfileFile> find(HostFs host, String vm) {
        String path = pathOf(vm);
        Optional<byte[]> bytes = TrustedFile.read(host.root(), path, ProfileLoader.MAX_BYTES,
                (shown, facts) -> checkTrusted(shown, facts, true));
        return bytes.map(b -> new ProfileFile(host.resolve(path), b));
    }

    /**
     * A profile named with {@code --profile FILE} for a command that changes the host: the same checks of
     * the file as an installed one (root would act on what anyone who can write the file put there), and
     * then read without following a link. Its directories are the user's choice.
     */
    public static ProfileFile readTrustedFile(Path file) {
        HostFs real = HostFs.open(Path.of("/"));
        String path = file.toAbsolutePath().normalize().toString();
        Optional<FileFacts> facts = real.stat(path);
        if (facts.isPresent()) { // a missing file is reported by the read, with its name
            checkTrusted(real.resolve(path), facts.get(), false);
        }
        return ProfileFile.read(file, true);
    }

    /** @param installed the VM's installed profile (else one named with --profile): only the fixes differ */
    static void checkTrusted(Path shown, FileFacts f, boolean installed) {
        String where = shown.toString();
        if (f.symlink()) {
            throw OrchestratorException.data(where + " is a symlink; refusing it. " + (installed
                    ? "Put the profile file itself there" : "Name the profile file itself"));
        }
        if (f.directory()) {
            throw OrchestratorException.data(where + " is a directory; a profile is a YAML file");
        }
        if (!f.regular()) {
            // a FIFO would hang the hook (and libvirt with it), a device could be read forever
            throw OrchestratorException.data(where + " is not a regular file (a pipe, socket or device); a profile is a"
                    + " YAML file" + (installed ? ": remove it and put the profile file itself there" : ""));
        }
        if (!TrustedFile.trustedOwner(f.ownerUid())) {
            throw OrchestratorException.data(where + " is owned by uid " + f.ownerUid()
                    + "; a profile runs as root, so it must belong to root: chown root:root " + where);
        }
        if (f.writableByOthers()) {
            throw OrchestratorException.data(where + " can be written by group or others (mode "
                    + Integer.toOctalString(f.mode()) + "); anyone could change what root does: chmod 644 " + where);
        }
    }
}
