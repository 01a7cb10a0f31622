package org.vfioorchestrator.install;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.FileFacts;
import org.vfioorchestrator.host.TrustedFile;

/**
 * The installer's files: program files, the libvirt hook and /etc/vfio-orchestrator,
 * as absolute paths resolved under a root ({@code /}, or {@code --root DIR} for tests
 * and image builds). This is the installer's counterpart of {@code host.HostFs}, which
 * covers kernel files and private state only: these are ordinary 0644/0755 files that
 * must be replaced atomically and moved back exactly. Symlinks are never followed for
 * writes, renames or deletes.
 */
final class InstallFs {
    private final Path root;

    InstallFs(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    boolean isLive() {
        return root.getParent() == null;
    }

    Path resolve(String path) {
        if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("install paths are absolute: " + path);
        }
        Path p = root.resolve(path.substring(1)).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("path leaves the root: " + path);
        }
        return p;
    }

    /** The path as the user sees it: the host path, or the path under --root. */
    String show(String path) {
        return resolve(path).toString();
    }

    boolean exists(String path) {
        return Files.exists(resolve(path), LinkOption.NOFOLLOW_LINKS);
    }

    boolean isDirectory(String path) {
        return Files.isDirectory(resolve(path), LinkOption.NOFOLLOW_LINKS);
    }

    boolean isSymlink(String path) {
        return Files.isSymbolicLink(resolve(path));
    }

    boolean isRegularFile(String path) {
        return Files.isRegularFile(resolve(path), LinkOption.NOFOLLOW_LINKS);
    }

    boolean isExecutable(String path) {
        return Files.isExecutable(resolve(path));
    }

    /**
     * Content of a regular file, or empty if nothing is there. A symlink is never followed and, like a
     * directory or a FIFO (whose open would hang), is an error naming the path: callers look first.
     */
    Optional<byte[]> read(String path) {
        Path p = resolve(path);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw OrchestratorException.data("cannot read " + p + ": not a regular file (a symlink, directory, pipe or"
                    + " device)");
        }
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(in.readAllBytes());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("read", path, e);
        }
    }

    /**
     * The install manifest, read the way sudo reads its files ({@link TrustedFile}): uninstall removes what
     * it lists, as root, so every directory above it and the file itself must be real, root's and writable
     * by nobody else. Every step is then checked against what install writes ({@link Manifest#parse}).
     */
    Optional<Manifest> loadManifest() {
        return TrustedFile.read(root, Manifest.PATH, Manifest.MAX_BYTES, InstallFs::checkManifestFile)
                .map(b -> Manifest.parse(b, show(Manifest.PATH)));
    }

    private static void checkManifestFile(Path shown, FileFacts f) {
        String why = " (uninstall removes what it lists, as root)";
        if (f.symlink()) {
            throw OrchestratorException.data(shown + " is a symlink; refusing it" + why + ": it must be the file itself");
        }
        if (!f.regular()) {
            // a FIFO would hang the read, a device could be read forever
            throw OrchestratorException.data(shown + " is not a regular file (a directory, pipe, socket or device);"
                    + " refusing it" + why);
        }
        if (!TrustedFile.trustedOwner(f.ownerUid())) {
            throw OrchestratorException.data(shown + " is owned by uid " + f.ownerUid() + "; uninstall removes what it"
                    + " lists, as root, so it must belong to root: chown root:root " + shown);
        }
        if (f.writableByOthers()) {
            throw OrchestratorException.data(shown + " can be written by group or others (mode " + Integer.toOctalString(f.mode())
                    + "); anyone could change what root does: chmod 644 " + shown);
        }
        if (f.size() > Manifest.MAX_BYTES) {
            throw OrchestratorException.data(shown + ": refusing the install manifest: it has " + f.size() + " bytes, and a"
                    + " manifest is a few KiB. Nothing was changed");
        }
    }

    /** Saves the manifest (0644: anyone may read what was installed where). */
    void saveManifest(Manifest m) {
        writeFile(Manifest.PATH, m.toBytes(), false, Layout.CONFIG_DIR);
    }

    List<String> list(String dir) {
        Path p = resolve(dir);
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw failure("list", dir, e);
        }
    }

    /** Creates one directory with mode 0755 (whatever the umask); its parent must exist. */
    void mkdir(String path) {
        Path p = resolve(path);
        try {
            Files.createDirectory(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw failure("create the directory", path, e);
        }
    }

    /**
     * Replaces {@code path} atomically with {@code content} and mode 0644 or 0755. The
     * temporary file is made in {@code tempDir}: for a file in libvirt's {@code qemu.d},
     * where every executable runs as a hook, it must not be made there.
     */
    void writeFile(String path, byte[] content, boolean executable, String tempDir) {
        Path target = resolve(path);
        Path tmp = resolve(tempDir).resolve(".vfio-orchestrator-install.tmp");
        try {
            Files.deleteIfExists(tmp);
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing runs or reads a dot-file named like this
            }
            throw failure("write", path, e);
        }
    }

    /** Renames without following symlinks and without replacing anything. */
    void rename(String from, String to) {
        Path target = resolve(to);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw OrchestratorException.data(show(to) + " exists; cannot move " + show(from)
                    + " there. Move it away first");
        }
        try {
            Files.move(resolve(from), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw failure("move " + show(from) + " to", to, e);
        }
    }

    void delete(String path) {
        try {
            Files.deleteIfExists(resolve(path));
        } catch (IOException e) {
            throw failure("remove", path, e);
        }
    }

    /** Removes an empty directory; false (and nothing done) when it is not empty. */
    boolean rmdirIfEmpty(String path) {
        try {
            Files.deleteIfExists(resolve(path));
            return true;
        } catch (DirectoryNotEmptyException e) {
            return false;
        } catch (IOException e) {
            throw failure("remove the directory", path, e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private OrchestratorException failure(String what, String path, IOException e) {
        String where = show(path);
        if (e instanceof AccessDeniedException) {
            return OrchestratorException.data("cannot " + what + " " + where + ": permission denied; run it as root"
                    + " (sudo), or choose another --prefix / --root");
        }
        String reason = e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null ? fse.getReason()
                : e.getClass().getSimpleName() + " " + e.getMessage();
        if (e instanceof NoSuchFileException) {
            reason = "no such file or directory";
        }
        return OrchestratorException.data("cannot " + what + " " + where + ": " + reason);
    }
}
