package org.vfioorchestrator.host;

import java.util.Locale;

/**
 * The errno a failed host operation ended with, as far as Java lets us see it.
 * The kernel answers with these and their meaning matters: EIO/EPERM on an IRQ
 * means "managed, cannot move", EINVAL on a task move means "per-CPU kernel thread".
 */
public enum Errno {
    EPERM("Operation not permitted"),
    ENOENT("No such file or directory"),
    ESRCH("No such process"),
    EIO("Input/output error"),
    EACCES("Permission denied"),
    EBUSY("Device or resource busy"),
    EEXIST("File exists"),
    EINVAL("Invalid argument"),
    ENOSPC("No space left on device"),
    EROFS("Read-only file system"),
    ENOTEMPTY("Directory not empty"),
    OTHER("");

    private final String text;

    Errno(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    /** Finds the errno in a JDK exception message, which carries strerror() text. */
    public static Errno fromMessage(String message) {
        if (message == null) {
            return OTHER;
        }
        String m = message.toLowerCase(Locale.ROOT);
        for (Errno e : values()) {
            if (e != OTHER && m.contains(e.text.toLowerCase(Locale.ROOT))) {
                return e;
            }
        }
        return OTHER;
    }
}
