package org.vfioorchestrator.host;

/** A host file or syscall operation failed; carries the path and the errno. */
public final class HostIoException extends RuntimeException {
    private final String path;
    private final Errno errno;

    public HostIoException(String path, Errno errno, String detail) {
        super(path + ": " + (detail == null || detail.isBlank() ? errno.name() : detail)
                + (errno == Errno.OTHER ? "" : " (" + errno.name() + ")"));
        this.path = path;
        this.errno = errno;
    }

    public String path() {
        return path;
    }

    public Errno errno() {
        return errno;
    }
}
