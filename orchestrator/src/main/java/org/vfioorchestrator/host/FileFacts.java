package org.vfioorchestrator.host;

/**
 * What {@code stat} says about a file (not following a symlink): owner and mode, for refusing unsafe
 * profiles and state files. {@code regular}: a plain file, not a FIFO, device, socket, directory or link.
 */
public record FileFacts(int ownerUid, int mode, long size, boolean symlink, boolean directory, boolean regular) {
    public boolean writableByOthers() {
        return (mode & 0022) != 0;
    }
}
