package org.vfioorchestrator.host;

import java.util.Map;

/**
 * What {@code stat} says about a file (not following a symlink): owner and mode, for refusing unsafe
 * profiles and state files. {@code regular}: a plain file, not a FIFO, device, socket, directory or link.
 */
public record FileFacts(int ownerUid, int mode, long size, boolean symlink, boolean directory, boolean regular) {
    /** The attributes {@link #of} needs, for {@code Files.readAttributes}. */
    static final String ATTRIBUTES = "unix:uid,mode,size,isSymbolicLink,isDirectory,isRegularFile";

    static FileFacts of(Map<String, Object> a) {
        return new FileFacts((Integer) a.get("uid"), ((Integer) a.get("mode")) & 07777, (Long) a.get("size"),
                (Boolean) a.get("isSymbolicLink"), (Boolean) a.get("isDirectory"), (Boolean) a.get("isRegularFile"));
    }

    public boolean writableByOthers() {
        return (mode & 0022) != 0;
    }
}
