package org.vfioorchestrator.testing;

import java.util.Collection;
import java.util.List;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;

/** A kernel that refuses every write to some files with one errno, as it does a managed IRQ's affinity. */
public final class RefusingHostFs extends ForwardingHostFs {
    private final List<String> paths;
    private final Errno errno;

    public RefusingHostFs(HostFs host, Collection<String> paths, Errno errno) {
        super(host);
        this.paths = List.copyOf(paths);
        this.errno = errno;
    }

    @Override
    public void write(String path, String value) {
        if (paths.contains(path)) {
            throw new HostIoException(path, errno, errno.text());
        }
        host.write(path, value);
    }
}
