package org.vfioorchestrator.host;

import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * A read-only view of a host that remembers every file and directory read
 * through it: {@code capture} uses it to copy exactly what this tool reads.
 * Every write is refused.
 */
public final class RecordingHostFs implements HostFs {
    private final HostFs host;
    private final Set<String> files = new TreeSet<>();
    private final Set<String> dirs = new TreeSet<>();
    /** thread id -> its process, learned from the /proc/PID/task/TID paths read. */
    private final java.util.Map<String, String> processOfThread = new java.util.HashMap<>();
    private static final java.util.regex.Pattern TASK = java.util.regex.Pattern.compile("/proc/(\\d+)/task/(\\d+)/.*");

    public RecordingHostFs(HostFs host) {
        this.host = host;
    }

    /** Files that were read (or found to exist), sorted. */
    public Set<String> files() {
        return files;
    }

    /** Directories that were listed, sorted. */
    public Set<String> directories() {
        return dirs;
    }

    @Override
    public Path root() {
        return host.root();
    }

    @Override
    public boolean isLive() {
        return host.isLive();
    }

    @Override
    public Optional<String> read(String path) {
        Optional<String> v = host.read(path);
        v.ifPresent(x -> files.add(path));
        java.util.regex.Matcher m = TASK.matcher(path);
        if (v.isPresent() && m.matches()) {
            processOfThread.put(m.group(2), m.group(1));
        }
        return v;
    }

    @Override
    public boolean exists(String path) {
        boolean e = host.exists(path);
        if (e) {
            (host.isDirectory(path) ? dirs : files).add(path);
        }
        return e;
    }

    @Override
    public boolean isDirectory(String path) {
        boolean d = host.isDirectory(path);
        if (d) {
            dirs.add(path);
        }
        return d;
    }

    @Override
    public List<String> list(String dir) {
        List<String> names = host.list(dir);
        if (host.isDirectory(dir)) {
            dirs.add(dir);
        }
        return names;
    }

    @Override
    public Optional<FileFacts> stat(String path) {
        return host.stat(path);
    }

    /** Not recorded: a capture holds kernel files, not disk images. */
    @Override
    public java.util.OptionalLong allocatedBytes(String path) {
        return host.allocatedBytes(path);
    }

    /**
     * What systemd reports is recorded as it keeps it: its drop-ins, read through this host. A
     * capture is never written to, so nothing may be set through here.
     */
    @Override
    public java.util.Optional<Systemd> systemd() {
        java.util.Optional<Systemd> real = host.systemd();
        if (real.isEmpty()) {
            return real;
        }
        isDirectory("/run/systemd/system"); // recorded: the capture then has systemd too
        return java.util.Optional.of(new Systemd() {
            @Override
            public java.util.Map<String, String> properties(java.util.List<String> units, String name) {
                units.forEach(unit -> read(Systemd.dropIn(unit, name)));
                return real.get().properties(units, name);
            }

            @Override
            public void setRuntimeProperty(String unit, String name, String value) {
                throw new UnsupportedOperationException("a recording host is only read");
            }

            @Override
            public void reload() {
                throw new UnsupportedOperationException("a recording host is only read");
            }
        });
    }

    /** A thread's affinity lives in its status file: capture that file so a tree shows the same. */
    @Override
    public CpuSet threadAffinity(int tid) {
        CpuSet cpus = host.threadAffinity(tid);
        String pid = processOfThread.get(Integer.toString(tid));
        if (pid != null) {
            read("/proc/" + pid + "/task/" + tid + "/status");
        }
        return cpus;
    }

    @Override
    public Path resolve(String path) {
        return host.resolve(path);
    }

    private static UnsupportedOperationException readOnly() {
        return new UnsupportedOperationException("capture is read-only");
    }

    @Override
    public void write(String path, String value) {
        throw readOnly();
    }

    @Override
    public void mkdir(String path) {
        throw readOnly();
    }

    @Override
    public void rmdir(String path) {
        throw readOnly();
    }

    @Override
    public void replaceAtomically(String path, byte[] content) {
        throw readOnly();
    }

    @Override
    public void createPrivateDirectories(String path) {
        throw readOnly();
    }

    @Override
    public void delete(String path) {
        throw readOnly();
    }

    @Override
    public void append(String path, String text) {
        throw readOnly();
    }

    @Override
    public OutputStream appendStream(String path) {
        throw readOnly();
    }

    @Override
    public AutoCloseable tryLock(String path, java.time.Duration timeout) {
        throw readOnly();
    }

    @Override
    public void setThreadAffinity(int tid, CpuSet cpus) {
        throw readOnly();
    }
}
