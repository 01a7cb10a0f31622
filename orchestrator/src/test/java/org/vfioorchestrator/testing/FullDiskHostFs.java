package org.vfioorchestrator.testing;

import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;

/**
 * Wraps a host whose /run fills up: the k-th state-file write
 * ({@link #replaceAtomically}, i.e. a journal save) fails with ENOSPC, and with
 * {@link Mode#STAYS_FULL} so does every later one. Deleting a file still works
 * (unlink needs no space); kernel files in /proc and /sys are not on that disk.
 */
public final class FullDiskHostFs extends ForwardingHostFs {
    public enum Mode { ONCE, STAYS_FULL }

    private final int failAt;
    private final Mode mode;
    private int saves;

    public FullDiskHostFs(HostFs host, int failAt, Mode mode) {
        super(host);
        this.failAt = failAt;
        this.mode = mode;
    }

    /** State-file writes attempted so far, the failing ones included. */
    public int saves() {
        return saves;
    }

    @Override
    public void replaceAtomically(String path, byte[] content) {
        saves++;
        if (saves == failAt || (mode == Mode.STAYS_FULL && saves > failAt)) {
            throw new HostIoException(path.substring(0, path.lastIndexOf('/') + 1) + "." + path.substring(path.lastIndexOf('/') + 1)
                    + ".tmp", Errno.ENOSPC, Errno.ENOSPC.text());
        }
        host.replaceAtomically(path, content);
    }

}
