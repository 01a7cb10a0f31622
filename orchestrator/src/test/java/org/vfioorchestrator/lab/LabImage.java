package org.vfioorchestrator.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The lab's guest image: built by {@code src/test/lab/build-image.sh} from Debian's packages into a
 * cache outside the checkout, and rebuilt only when that recipe changes.
 *
 * @param dir the cache folder of this recipe: rootfs.img, the kernels and their initrds, manifest.txt
 */
record LabImage(Path dir) {
    static final Path RECIPE = Path.of(System.getProperty("repo.root", ".."), "orchestrator/src/test/lab/build-image.sh");

    Path rootfs() {
        return dir.resolve("rootfs.img");
    }

    /** The kernel of a variant: "6.1" (Debian 12's) or "new" (bookworm-backports'). */
    Path kernel(String which) {
        return dir.resolve("vmlinuz-" + which);
    }

    Path initrd(String which) {
        return dir.resolve("initrd.img-" + which);
    }

    /** The kernel's release, as the manifest names it ("6.1.0-57-amd64"). */
    String release(String which) throws IOException {
        for (String line : Files.readAllLines(dir.resolve("manifest.txt"))) {
            if (line.startsWith("kernel-" + which + " ")) {
                return line.substring(line.indexOf(' ') + 1);
            }
        }
        return "?";
    }

    /** The cached image, built first when its recipe changed (minutes: progress goes to stderr). */
    static LabImage ensure() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of("bash", RECIPE.toString())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(RECIPE + " took more than 30 minutes");
        }
        if (p.exitValue() != 0) {
            throw new IOException(RECIPE + " exited " + p.exitValue() + " (its messages are above)");
        }
        String[] lines = out.split("\n");
        return new LabImage(Path.of(lines[lines.length - 1]));
    }
}
