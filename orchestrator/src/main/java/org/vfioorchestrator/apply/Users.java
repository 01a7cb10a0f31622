package org.vfioorchestrator.apply;

/** Who we run as; state files must belong to us. */
final class Users {
    private Users() {
    }

    static int effectiveUid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getUid();
    }
}
