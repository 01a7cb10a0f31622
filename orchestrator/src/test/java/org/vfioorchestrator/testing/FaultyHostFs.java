package org.vfioorchestrator.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.FileFacts;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;

/**
 * Wraps a host and makes its k-th kernel change (write, mkdir, rmdir, thread
 * pin; not the journal) fail with an errno, or "crash" the process there by
 * throwing {@link Crash}, which nothing in the tool catches.
 */
public final class FaultyHostFs implements HostFs {
    /** Stands for the process dying: an Error, so no catch block in the tool runs. */
    public static final class Crash extends Error {
        public Crash(String where) {
            super("simulated crash before " + where);
        }
    }

    public enum Mode { FAIL, CRASH }

    private final HostFs host;
    private final int failAt;
    private final Mode mode;
    private final Errno errno;
    private int count;

    public FaultyHostFs(HostFs host, int failAt, Mode mode, Errno errno) {
        this.host = host;
        this.failAt = failAt;
        this.mode = mode;
        this.errno = errno;
    }

    /** How many kernel changes were attempted (counting the failing one). */
    public int count() {
        return count;
    }

    private void step(String what) {
        count++;
        if (count == failAt) {
            if (mode == Mode.CRASH) {
                throw new Crash(what);
            }
            throw new HostIoException(what, errno, errno.text());
        }
    }

    @Override public Path root() { return host.root(); }
    @Override public boolean isLive() { return host.isLive(); }
    @Override public Optional<String> read(String path) { return host.read(path); }
    @Override public boolean exists(String path) { return host.exists(path); }
    @Override public boolean isDirectory(String path) { return host.isDirectory(path); }
    @Override public List<String> list(String dir) { return host.list(dir); }
    @Override public Optional<FileFacts> stat(String path) { return host.stat(path); }
    @Override public OptionalLong allocatedBytes(String path) { return host.allocatedBytes(path); }
    @Override public void replaceAtomically(String path, byte[] content) { host.replaceAtomically(path, content); }
    @Override public void createPrivateDirectories(String path) { host.createPrivateDirectories(path); }
    @Override public void delete(String path) { host.delete(path); }
    @Override public void append(String path, String text) { host.append(path, text); }
    @Override public AutoCloseable tryLock(String path, Duration timeout) { return host.tryLock(path, timeout); }
    @Override public CpuSet threadAffinity(int tid) { return host.threadAffinity(tid); }
    @Override public Path resolve(String path) { return host.resolve(path); }

    @Override
    public void write(String path, String value) {
        step(path);
        host.write(path, value);
    }

    @Override
    public void mkdir(String path) {
        step(path);
        host.mkdir(path);
    }

    @Override
    public void rmdir(String path) {
        step(path);
        host.rmdir(path);
    }

    @Override
    public void setThreadAffinity(int tid, CpuSet cpus) {
        step("/proc/" + tid);
        host.setThreadAffinity(tid, cpus);
    }
}
