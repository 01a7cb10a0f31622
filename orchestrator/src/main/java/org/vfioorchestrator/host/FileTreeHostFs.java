package org.vfioorchestrator.host;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.process.CommandRunner;

/** File access shared by the live host and captured trees: path resolution, reads, plain writes. */
abstract class FileTreeHostFs implements HostFs {
    protected final Path root;
    /** {@link #root} as a prefix for host paths: empty for {@code /}. */
    private final String rootPrefix;

    FileTreeHostFs(Path root) {
        this.root = root;
        String r = root.toString();
        this.rootPrefix = r.equals("/") ? "" : r;
    }

    /**
     * Whether state files must survive a power cut (fsync). The live host: yes.
     * A captured tree is a simulation whose journal only has to survive the
     * process, which rename alone guarantees.
     */
    protected abstract boolean durable();

    @Override
    public Path root() {
        return root;
    }

    @Override
    public Path resolve(String path) {
        if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("host paths are absolute: " + path);
        }
        Path p = root.resolve(path.substring(1)).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("path leaves the host root: " + path);
        }
        return p;
    }

    /**
     * {@code resolve(path).toString()} without building Paths: a plain absolute path (no empty,
     * "." or ".." segments, no trailing slash) is the root and the path joined; anything else is
     * normalized and checked by {@link #resolve}. The hook reads thousands of small files, and in a
     * JVM that has just started, java.io with a string costs a third of NIO with a Path per read.
     */
    final String resolveString(String path) {
        return HostFs.isPlainPath(path) ? rootPrefix + path : resolve(path).toString();
    }

    /**
     * Where {@code path} leads, a final symlink followed (reads, writes, listings): inside the tree, or an error.
     * A tree given with --host-root is often someone else's copy, and a link in it ({@code proc/irq/0 -> /etc})
     * must not make a root process read or write the real host.
     */
    final String file(String path) {
        return confine(path, resolveString(path), "");
    }

    /** Where {@code path}'s own directory entry is (stat, create, remove, rename: a final symlink not followed). */
    final Path entry(String path) {
        Path p = resolve(path);
        if (!p.equals(root)) {
            confine(path, p.getParent().toString(), "/" + p.getFileName());
        }
        return p;
    }

    /** The tree's real path (its own symlinks resolved), which everything resolved under it must stay inside. */
    private volatile String realRoot;

    /**
     * Where {@code joined} (a path under the root) really leads, its symlinks resolved; throws when that is
     * outside the tree. Free on the live host, where it is {@code joined} itself.
     */
    private String confine(String path, String joined, String below) {
        if (rootPrefix.isEmpty()) {
            return joined; // the live host: every path is under /
        }
        try {
            if (realRoot == null) {
                realRoot = new File(rootPrefix).getCanonicalPath();
            }
            // realpath(3): one readlink per component, no exception; a missing file resolves as far as it exists
            String real = new File(joined).getCanonicalPath();
            if (!real.startsWith(realRoot) || (real.length() > realRoot.length() && real.charAt(realRoot.length()) != '/')) {
                throw new HostIoException(path, Errno.OTHER, "leads out of the host tree " + root + " through a symlink (to "
                        + real + below + "); refusing to follow it. Remove the link from the tree");
            }
            return real;
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public Optional<String> read(String path) {
        try (FileInputStream in = new FileInputStream(file(path))) {
            // plain reads until EOF: readAllBytes() would first fstat and lseek, and sysfs says 4096 for every size
            byte[] buf = new byte[512];
            int len = 0;
            for (int n; (n = in.read(buf, len, buf.length - len)) > 0; ) {
                len += n;
                if (len == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 4);
                }
            }
            return Optional.of(new String(buf, 0, len, StandardCharsets.UTF_8));
        } catch (FileNotFoundException e) {
            // java.io reports every failed open this way, with strerror() in parentheses at the end
            String reason = reason(e);
            if (reason.equals("No such file or directory") || reason.equals("Not a directory")) {
                return Optional.empty(); // a/b where a is a file: b does not exist
            }
            if (reason.equals("Is a directory")) {
                throw new HostIoException(path, Errno.OTHER, "is a directory");
            }
            throw openFailed(path, reason);
        } catch (IOException e) {
            // sysfs answers some reads with an errno (e.g. EIO from a device that is gone)
            if (e.getMessage() != null && e.getMessage().contains("Is a directory")) {
                throw new HostIoException(path, Errno.OTHER, "is a directory");
            }
            throw toHostIo(path, e);
        }
    }

    /** A failed java.io open: the errno its strerror() text names, that text itself where none does. */
    private static HostIoException openFailed(String path, String reason) {
        Errno errno = Errno.fromMessage(reason);
        return new HostIoException(path, errno, errno == Errno.OTHER ? reason : errno.text());
    }

    /** "FILE (No such file or directory)" -> "No such file or directory". */
    private static String reason(FileNotFoundException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        int open = m.lastIndexOf(" (");
        return open >= 0 && m.endsWith(")") ? m.substring(open + 2, m.length() - 1) : m;
    }

    @Override
    public Optional<java.io.InputStream> readStream(String path) {
        Path p = Path.of(file(path));
        try {
            return Optional.of(Files.newInputStream(p));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (FileSystemException e) {
            if ("Not a directory".equals(e.getReason())) {
                return Optional.empty();
            }
            throw toHostIo(path, e);
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public boolean exists(String path) {
        // java.io's stat answers without an exception; NIO's lstat (which throws for a missing file)
        // only decides what stat cannot see: a symlink whose target is missing exists too
        String file = resolveString(path);
        int slash = file.lastIndexOf('/');
        confine(path, file.substring(0, slash), file.substring(slash));
        return new File(file).exists() || Files.isSymbolicLink(Path.of(file));
    }

    @Override
    public boolean isDirectory(String path) {
        return new File(file(path)).isDirectory();
    }

    @Override
    public List<String> list(String dir) {
        // java.io first (one call, no stream); it cannot say why it failed, NIO below can
        String[] names = new File(file(dir)).list();
        if (names != null) {
            Arrays.sort(names);
            return List.of(names);
        }
        Path p = resolve(dir);
        if (!Files.isDirectory(p)) {
            return List.of();
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(p)) {
            List<String> out = new ArrayList<>();
            for (Path entry : entries) {
                out.add(entry.getFileName().toString());
            }
            Collections.sort(out);
            return List.copyOf(out);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw toHostIo(dir, e);
        }
    }

    @Override
    public Optional<FileFacts> stat(String path) {
        Path p = entry(path);
        try {
            return Optional.of(FileFacts.of(Files.readAttributes(p, FileFacts.ATTRIBUTES, LinkOption.NOFOLLOW_LINKS)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    /** {@code stat --dereference --format='%b %B' -- FILE}: allocated blocks and their unit. */
    @Override
    public OptionalLong allocatedBytes(String path) {
        Path p = Path.of(file(path));
        if (!Files.exists(p)) {
            return OptionalLong.empty();
        }
        CommandRunner.Result r;
        try {
            r = CommandRunner.system().run(List.of("stat", "--dereference", "--format=%b %B", "--", p.toString()),
                    java.time.Duration.ofSeconds(10));
        } catch (OrchestratorException e) {
            return OptionalLong.empty();
        }
        List<String> f = KernelText.words(r.stdout());
        if (r.exitCode() != 0 || f.size() != 2) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(f.get(0)) * Long.parseLong(f.get(1)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * One write() of the bytes, like the shell's echo; the file must exist (kernel files are never created).
     * Through java.io, which costs a fresh JVM a third of what NIO's channel does per write, but opens with
     * O_CREAT: so a missing file is ENOENT before the open (sysfs and cgroupfs would answer EACCES, a tree
     * would create it).
     */
    protected void writeBytes(String path, byte[] bytes) {
        File file = new File(file(path));
        if (!file.exists()) {
            throw new HostIoException(path, Errno.ENOENT, Errno.ENOENT.text());
        }
        try (FileOutputStream out = new FileOutputStream(file)) {
            out.write(bytes);
        } catch (FileNotFoundException e) {
            throw openFailed(path, reason(e));
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public void write(String path, String value) {
        writeBytes(path, (value + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void mkdir(String path) {
        try {
            Files.createDirectory(entry(path));
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public void rmdir(String path) {
        try {
            Files.delete(entry(path));
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    /**
     * The temp file is created new (O_EXCL) and never through a link (O_NOFOLLOW), so nothing planted under its
     * name is written through: a plain file a killed write left behind is removed first, anything else refused.
     */
    @Override
    public void replaceAtomically(String path, byte[] content) {
        Path target = entry(path);
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        String tmpPath = path.substring(0, path.lastIndexOf('/') + 1) + tmp.getFileName();
        try {
            removeLeftoverTemp(tmpPath, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                if (durable()) {
                    ch.force(true);
                }
            } catch (FileAlreadyExistsException e) {
                // a dangling symlink (java.io saw no file), or planted since: refused, left for the admin to see
                throw inTheWay(tmpPath, tmp);
            } catch (IOException e) {
                // ours, half written (a full disk): name the file that failed
                deleteQuietly(tmp);
                throw toHostIo(tmpPath, e);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (durable()) {
                try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
                    dir.force(true);
                } catch (IOException ignored) {
                    // some file systems refuse fsync on a directory; the rename itself is atomic
                }
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw toHostIo(path, e);
        }
    }

    /** A regular file with one link under the temp name is what a killed write leaves: removing a name writes nothing. */
    private static void removeLeftoverTemp(String tmpPath, Path tmp) throws IOException {
        if (!new File(tmp.toString()).exists()) {
            return; // java.io's stat, no exception: the usual case (a dangling link fails the exclusive create)
        }
        Map<String, Object> a = Files.readAttributes(tmp, "unix:nlink,isRegularFile", LinkOption.NOFOLLOW_LINKS);
        if (!(Boolean) a.get("isRegularFile") || (Integer) a.get("nlink") != 1) {
            throw inTheWay(tmpPath, tmp);
        }
        Files.delete(tmp);
    }

    /** What is planted under the temp name, and what to do about it. */
    private static HostIoException inTheWay(String tmpPath, Path tmp) {
        String what;
        try {
            Map<String, Object> a = Files.readAttributes(tmp, "unix:nlink,isRegularFile,isSymbolicLink", LinkOption.NOFOLLOW_LINKS);
            what = (Boolean) a.get("isSymbolicLink") ? "a symlink" : !(Boolean) a.get("isRegularFile")
                    ? "not a regular file" : "a hard link to another file (" + a.get("nlink") + " links)";
        } catch (IOException e) {
            what = "a file someone created meanwhile";
        }
        return new HostIoException(tmpPath, Errno.OTHER, "is " + what + "; refusing to write through it. Remove it (rm "
                + tmp + ") and try again");
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a partial temp file is harmless: it is never read as state, and the next write removes it
        }
    }

    @Override
    public void createPrivateDirectories(String path) {
        Path p = entry(path);
        try {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(p.getParent());
                try {
                    Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException e) {
                    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        throw e;
                    }
                    // another hook call made it between our look and our mkdir; the caller checks its owner and mode
                }
            }
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public void delete(String path) {
        try {
            Files.deleteIfExists(entry(path));
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public OutputStream appendStream(String path) {
        Path p = entry(path);
        try {
            try {
                return Files.newOutputStream(p, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                // the first line: create the directories and the private file below
            }
            Files.createDirectories(p.getParent());
            try {
                Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException e) {
                // another hook call wrote its first line first; append to its file (a symlink is refused below)
            }
            return Files.newOutputStream(p, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public void append(String path, String text) {
        try (OutputStream out = appendStream(path)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw toHostIo(path, e);
        }
    }

    @Override
    public AutoCloseable tryLock(String path, java.time.Duration timeout) {
        Path p = entry(path);
        try {
            if (Files.isSymbolicLink(p)) {
                throw new HostIoException(path, Errno.OTHER, "is a symlink; refusing to follow it");
            }
            FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                java.nio.channels.FileLock lock = tryLockOnce(ch);
                if (lock != null) {
                    return new HeldLock(lock, ch);
                }
                if (System.nanoTime() > deadline) {
                    ch.close();
                    return null;
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            throw toHostIo(path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** A lock held until closed, with its file. */
    private record HeldLock(java.nio.channels.FileLock lock, FileChannel channel) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            lock.release();
            channel.close();
        }
    }

    /** The lock, or null while another process, or another thread of this one (tests, an embedding), holds it. */
    private static java.nio.channels.FileLock tryLockOnce(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException heldInThisJvm) {
            return null;
        }
    }

    static HostIoException toHostIo(String path, IOException e) {
        Errno errno;
        if (e instanceof NoSuchFileException) {
            errno = Errno.ENOENT;
        } else if (e instanceof AccessDeniedException) {
            errno = Errno.EACCES;
        } else if (e instanceof FileAlreadyExistsException) {
            errno = Errno.EEXIST;
        } else if (e instanceof DirectoryNotEmptyException) {
            errno = Errno.ENOTEMPTY;
        } else if (e instanceof FileSystemException fse) {
            errno = Errno.fromMessage(fse.getReason());
        } else {
            errno = Errno.fromMessage(e.getMessage());
        }
        String detail = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason() : e.getMessage();
        if (errno != Errno.OTHER) {
            detail = errno.text();
        }
        return new HostIoException(path, errno, detail);
    }
}
