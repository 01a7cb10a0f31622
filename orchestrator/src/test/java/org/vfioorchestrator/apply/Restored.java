package org.vfioorchestrator.apply;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.testing.TreeSnapshot;

/**
 * What "the host is back" means after a revert: byte-identical, except where the kernel refuses the
 * before-image. On cgroup v2 a cgroup with processes cannot go back to cpuset.cpus '' (ENOSPC, seen in
 * the lab); revert gives it its parent's CPUs instead and reports it ({@link RevertReport#substituted}).
 * The differences must be exactly those files, each now holding its parent's effective CPUs.
 */
final class Restored {
    private Restored() {
    }

    /** The differences from {@code before} that the report does not account for; empty when the host is back. */
    static List<String> unexplained(TreeSnapshot before, Path root, List<String> substituted) throws IOException {
        List<String> expected = new ArrayList<>();
        for (String s : substituted) {
            String path = s.substring(0, s.indexOf(": "));
            String dir = path.substring(0, path.lastIndexOf('/'));
            String parentCpus = Files.readString(root.resolve(dir.substring(1, dir.lastIndexOf('/')) + "/cpuset.cpus.effective")).strip();
            expected.add("changed: " + path.substring(1) + ": '\\n' -> '" + parentCpus + "\\n'");
        }
        List<String> unexplained = new ArrayList<>(before.differences(TreeSnapshot.of(root)));
        if (!unexplained.containsAll(expected)) {
            List<String> missing = new ArrayList<>(expected);
            missing.removeAll(unexplained);
            unexplained.add("reported as given their parent's CPUs, but not so: " + missing);
        }
        unexplained.removeAll(expected);
        return unexplained;
    }
}
