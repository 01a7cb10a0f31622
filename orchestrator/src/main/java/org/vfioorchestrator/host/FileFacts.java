package org.vfioorchestrator.host;

/** What {@code stat} says about a file: owner and mode, for refusing unsafe profiles and state files. */
public record FileFacts(int ownerUid, int mode, long size, boolean symlink, boolean directory) {
    public boolean writableByOthers() {
        return (mode & 0022) != 0;
    }
}
