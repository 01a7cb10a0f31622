package org.vfioorchestrator.host;

import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * The one way this tool touches the host: every read of /proc and /sys, every
 * kernel write, every thread pin and the state files go through here. Paths are
 * absolute host paths ({@code /proc/irq/45/smp_affinity_list}) resolved under
 * {@link #root()}: {@code /} in production, a captured tree for tests and dry runs.
 */
public interface HostFs {

    /** Opens the host at {@code root}: the live kernel for {@code /}, a simulated one for a tree. */
    static HostFs open(Path root) {
        Path abs = root.toAbsolutePath().normalize();
        return abs.getParent() == null ? new LiveHostFs() : new TreeHostFs(abs);
    }

    /**
     * A path that means what it says: absolute, no empty, "." or ".." segment, no trailing slash, no NUL.
     * Such a path joined to the root needs no normalizing.
     */
    static boolean isPlainPath(String path) {
        int n = path.length();
        if (n < 2 || path.charAt(0) != '/' || path.charAt(n - 1) == '/') {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            if (c == '\0') {
                return false;
            }
            if (c == '/' && path.charAt(i + 1) == '/') {
                return false; // an empty segment (i + 1 < n: the path does not end with '/')
            }
            if (c == '/' && path.charAt(i + 1) == '.') {
                int j = i + 2;
                if (j == n || path.charAt(j) == '/' || (path.charAt(j) == '.' && (j + 1 == n || path.charAt(j + 1) == '/'))) {
                    return false; // a "." or ".." segment
                }
            }
        }
        return true;
    }

    Path root();

    /** True when this is the running kernel, not a captured tree. */
    boolean isLive();

    /** File content, or empty if the file does not exist. Unreadable files are errors. */
    Optional<String> read(String path);

    /**
     * A file to read as a stream, for kernel files too big to hold whole ({@code /proc/interrupts}
     * has a column per CPU); empty if it does not exist. The caller closes it.
     */
    default Optional<java.io.InputStream> readStream(String path) {
        Optional<String> text = read(path);
        return text.isPresent()
                ? Optional.of(new java.io.ByteArrayInputStream(text.get().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                : Optional.empty();
    }

    /** File content; a missing file is an error naming the path. */
    default String readRequired(String path) {
        Optional<String> text = read(path);
        if (text.isEmpty()) {
            throw new HostIoException(path, Errno.ENOENT, "missing");
        }
        return text.get();
    }

    boolean exists(String path);

    boolean isDirectory(String path);

    /** Names in a directory, sorted; empty if it does not exist. */
    List<String> list(String dir);

    Optional<FileFacts> stat(String path);

    /**
     * Bytes the file system has really allocated to a file ({@code st_blocks} times the
     * block unit), following symlinks; less than the size means a sparse file. Empty when
     * the file is missing or the allocation cannot be read. Java has no st_blocks, so
     * this runs {@code stat}.
     */
    OptionalLong allocatedBytes(String path);

    /** Writes {@code value} and a newline to an existing kernel file, in one write like {@code echo}. */
    void write(String path, String value);

    /** Creates a directory (a cgroup); its parent must exist. */
    void mkdir(String path);

    /** Removes an empty directory (a cgroup). */
    void rmdir(String path);

    /** Writes a state file atomically: temp file, fsync, rename, fsync of the directory. */
    void replaceAtomically(String path, byte[] content);

    /** Creates a private state directory (mode 0700) and its parents, if missing. */
    void createPrivateDirectories(String path);

    void delete(String path);

    /** Appends text to a log file of ours (created 0600 if missing, never through a symlink). */
    void append(String path, String text);

    /**
     * A log file of ours opened once for many appends, on the same terms as {@link #append}; each
     * {@code write} reaches the file at once (nothing is buffered). The caller closes it.
     */
    OutputStream appendStream(String path);

    /**
     * Takes an exclusive lock on a state file (created if missing, never
     * followed if a symlink), waiting at most {@code timeout}; null if it could
     * not be had in time. Closing the returned handle releases it.
     */
    AutoCloseable tryLock(String path, java.time.Duration timeout);

    /** The calling thread's kernel id: the first field of {@code /proc/thread-self/stat} (the running kernel's). */
    default int callingThreadId() {
        String stat = readRequired("/proc/thread-self/stat");
        return Integer.parseInt(stat.substring(0, stat.indexOf(' ')));
    }

    /**
     * systemd, where it runs as PID 1 ({@code /run/systemd/system} exists, as sd_booted() checks):
     * the live one through systemctl, on a tree a simulation of what it does to cgroups.
     */
    Optional<Systemd> systemd();

    /** Where a thread may run ({@code sched_getaffinity}). */
    CpuSet threadAffinity(int tid);

    /**
     * A hint that {@link #setThreadAffinity} comes soon: the live host then gets its way to
     * call the kernel ready on another thread, while the caller reads the host. Nothing else.
     */
    default void expectAffinityChanges() {
    }

    /** Pins a thread ({@code sched_setaffinity}). */
    void setThreadAffinity(int tid, CpuSet cpus);

    /** Resolves a host path to where it lives under the root; for messages and for tools that need a file name. */
    Path resolve(String path);
}
