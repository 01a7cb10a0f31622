package org.vfioorchestrator.testing;

import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;

/**
 * Wraps a host and makes its k-th kernel change (write, mkdir, rmdir, thread
 * pin, a systemd runtime property or reload; not the journal) fail with an errno,
 * or "crash" the process there by throwing {@link Crash}, which nothing in the
 * tool catches.
 */
public final class FaultyHostFs extends ForwardingHostFs {
    /** Stands for the process dying: an Error, so no catch block in the tool runs. */
    public static final class Crash extends Error {
        public Crash(String where) {
            super("simulated crash before " + where);
        }
    }

    public enum Mode { FAIL, CRASH }

    private final int failAt;
    private final Mode mode;
    private final Errno errno;
    private int count;

    public FaultyHostFs(HostFs host, int failAt, Mode mode, Errno errno) {
        super(host);
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

    @Override
    public java.util.Optional<org.vfioorchestrator.host.Systemd> systemd() {
        return host.systemd().map(real -> new org.vfioorchestrator.host.Systemd() {
            @Override
            public java.util.Map<String, String> properties(java.util.List<String> units, String name) {
                return real.properties(units, name);
            }

            @Override
            public void setRuntimeProperty(String unit, String name, String value) {
                step("systemctl set-property " + unit);
                real.setRuntimeProperty(unit, name, value);
            }

            @Override
            public void reload() {
                step("systemctl daemon-reload");
                real.reload();
            }
        });
    }
}
