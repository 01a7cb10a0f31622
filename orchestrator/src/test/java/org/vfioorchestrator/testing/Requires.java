package org.vfioorchestrator.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs from the machine (root, libvirtd, the real-kernel lab). Outside CI a missing
 * need skips the test with the reason; in CI (the environment variable {@code CI} is {@code true},
 * as {@code .ci/run} sets it) it fails, because CI installs everything these tests need and a skip
 * there would hide a test that never ran.
 */
public final class Requires {
    private Requires() {
    }

    /** Whether this run is CI, where every need must be met. */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips (outside CI) or fails (in CI) with {@code reason} unless {@code met}. */
    public static void that(boolean met, String reason) {
        if (met) {
            return;
        }
        if (inCi()) {
            Assertions.fail("in CI every test must run, but: " + reason);
        }
        Assumptions.abort(reason);
    }

    /** The test changes the real machine and needs root. */
    public static void root(String what) {
        that(isRoot(), "needs root: " + what);
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
