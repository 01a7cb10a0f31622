package org.vfioorchestrator.host;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.vfioorchestrator.OrchestratorException;

/**
 * Reads a file that root acts on (a profile, the install manifest) the way sudo reads its own: from
 * the root down, every directory is opened relative to the one above it without following a link
 * ({@code openat(O_NOFOLLOW)}), and what that open descriptor is ({@code fstat}) must be a directory
 * owned by root (or by the user running the tool, whose own files only they can hurt) that nobody
 * else can write. So once a directory passes, nobody but its owner can swap what is in it, and the
 * file is then judged (by the caller, before it is opened: a FIFO would block the open) and opened
 * relative to it, again without following a link.
 */
public final class TrustedFile {
    private static final int OUR_UID = (int) new com.sun.security.auth.module.UnixSystem().getUid();

    private TrustedFile() {
    }

    /** Judges the file itself before it is opened; throws an {@link OrchestratorException} to refuse it. */
    @FunctionalInterface
    public interface FileCheck {
        void check(Path shown, FileFacts facts);
    }

    /** Root, or the user running the tool. */
    public static boolean trustedOwner(int uid) {
        return uid == 0 || uid == OUR_UID;
    }

    /**
     * The file at host path {@code path} under {@code root}, at most {@code maxBytes + 1} bytes (so the
     * caller sees a file that is too large); empty when it or a directory on the way does not exist.
     *
     * @throws OrchestratorException for a directory on the way or a file that may not be trusted, naming
     *     it and the fix
     */
    public static Optional<byte[]> read(Path root, String path, int maxBytes, FileCheck fileCheck) {
        List<String> names = names(path);
        Path shown = root;
        try {
            Path real = root.toRealPath();
            SecureDirectoryStream<Path> dir = openRoot(real);
            try {
                judgeDirectory(dir, real, shown, root.resolve(path.substring(1)));
                for (String name : names.subList(0, names.size() - 1)) {
                    // what is there, before it is opened: a link is named as one, and a FIFO would block the open
                    Optional<FileFacts> what = stat(real.resolve(name));
                    if (what.isEmpty()) {
                        return Optional.empty();
                    }
                    checkDirectory(shown.resolve(name), what.get(), root.resolve(path.substring(1)));
                    SecureDirectoryStream<Path> below;
                    try {
                        below = (SecureDirectoryStream<Path>) dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
                    } catch (NoSuchFileException e) {
                        return Optional.empty();
                    }
                    dir.close();
                    dir = below;
                    real = real.resolve(name);
                    shown = shown.resolve(name);
                    judgeDirectory(dir, real, shown, root.resolve(path.substring(1)));
                }
                String name = names.get(names.size() - 1);
                Optional<FileFacts> facts = stat(real.resolve(name));
                if (facts.isEmpty()) {
                    return Optional.empty();
                }
                fileCheck.check(shown.resolve(name), facts.get());
                try (SeekableByteChannel in = dir.newByteChannel(Path.of(name),
                        Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                    return Optional.of(Channels.newInputStream(in).readNBytes(maxBytes + 1));
                } catch (NoSuchFileException e) {
                    return Optional.empty();
                }
            } finally {
                dir.close();
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw FileTreeHostFs.toHostIo(shown.toString(), e);
        }
    }

    private static List<String> names(String path) {
        List<String> names = new ArrayList<>(Arrays.asList(path.split("/")));
        names.removeIf(String::isEmpty);
        if (!path.startsWith("/") || names.isEmpty() || names.contains(".") || names.contains("..") || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a plain absolute host path: " + path);
        }
        return names;
    }

    private static SecureDirectoryStream<Path> openRoot(Path real) throws IOException {
        DirectoryStream<Path> dir = Files.newDirectoryStream(real);
        if (dir instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        dir.close();
        throw new IllegalStateException("this platform has no openat (SecureDirectoryStream); Linux has");
    }

    /**
     * The open directory must be one that nobody but root (or us) can change. Its owner and mode are read
     * by name (Java has no fstat for them) and trusted only when that names the very directory we hold
     * open: the same device and inode as its descriptor's fstat.
     */
    private static void judgeDirectory(SecureDirectoryStream<Path> dir, Path real, Path shown, Path file) throws IOException {
        Object opened = dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey();
        Map<String, Object> named = Files.readAttributes(real, FileFacts.ATTRIBUTES + ",fileKey", LinkOption.NOFOLLOW_LINKS);
        if (!Objects.equals(opened, named.get("fileKey"))) {
            throw OrchestratorException.data(shown + " changed while it was checked; is someone replacing it? Run again");
        }
        checkDirectory(shown, FileFacts.of(named), file);
    }

    private static void checkDirectory(Path shown, FileFacts f, Path file) {
        if (f.symlink()) {
            throw OrchestratorException.data(shown + " is a symlink, on the way to " + file + "; refusing to follow it."
                    + " Put the directory itself there");
        }
        if (!f.directory()) {
            throw OrchestratorException.data(shown + " is not a directory, on the way to " + file + "; remove it");
        }
        if (!trustedOwner(f.ownerUid())) {
            throw OrchestratorException.data(shown + " is owned by uid " + f.ownerUid() + "; whoever owns a directory above "
                    + file + " can put another file in its place, and root would act on it: chown root:root " + shown);
        }
        if (f.writableByOthers()) {
            throw OrchestratorException.data(shown + " can be written by group or others (mode " + Integer.toOctalString(f.mode())
                    + "); anyone could put another file in place of " + file + ", and root would act on it: chmod go-w "
                    + shown);
        }
    }

    /** What lstat says about a path; empty when it does not exist. */
    private static Optional<FileFacts> stat(Path p) throws IOException {
        try {
            return Optional.of(FileFacts.of(Files.readAttributes(p, FileFacts.ATTRIBUTES, LinkOption.NOFOLLOW_LINKS)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

}
