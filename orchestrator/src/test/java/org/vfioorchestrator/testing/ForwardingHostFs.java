package org.vfioorchestrator.testing;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.FileFacts;
import org.vfioorchestrator.host.HostFs;

/** A host that passes every call on to another: fault wrappers override only what they break. */
public abstract class ForwardingHostFs implements HostFs {
    protected final HostFs host;

    protected ForwardingHostFs(HostFs host) {
        this.host = host;
    }

    @Override public Path root() { return host.root(); }
    @Override public boolean isLive() { return host.isLive(); }
    @Override public Optional<String> read(String path) { return host.read(path); }
    @Override public boolean exists(String path) { return host.exists(path); }
    @Override public boolean isDirectory(String path) { return host.isDirectory(path); }
    @Override public List<String> list(String dir) { return host.list(dir); }
    @Override public Optional<FileFacts> stat(String path) { return host.stat(path); }
    @Override public OptionalLong allocatedBytes(String path) { return host.allocatedBytes(path); }
    @Override public void write(String path, String value) { host.write(path, value); }
    @Override public void mkdir(String path) { host.mkdir(path); }
    @Override public void rmdir(String path) { host.rmdir(path); }
    @Override public void replaceAtomically(String path, byte[] content) { host.replaceAtomically(path, content); }
    @Override public void createPrivateDirectories(String path) { host.createPrivateDirectories(path); }
    @Override public void delete(String path) { host.delete(path); }
    @Override public void append(String path, String text) { host.append(path, text); }
    @Override public OutputStream appendStream(String path) { return host.appendStream(path); }
    @Override public AutoCloseable tryLock(String path, Duration timeout) { return host.tryLock(path, timeout); }
    @Override public CpuSet threadAffinity(int tid) { return host.threadAffinity(tid); }
    @Override public java.util.Optional<org.vfioorchestrator.host.Systemd> systemd() { return host.systemd(); }
    @Override public void expectAffinityChanges() { host.expectAffinityChanges(); }
    @Override public void setThreadAffinity(int tid, CpuSet cpus) { host.setThreadAffinity(tid, cpus); }
    @Override public Path resolve(String path) { return host.resolve(path); }
}
