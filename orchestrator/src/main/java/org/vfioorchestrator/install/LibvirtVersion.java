package org.vfioorchestrator.install;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.process.CommandRunner;

/** A libvirt version; from 6.5 on, libvirt runs every executable in {@code hooks/qemu.d/} as well as {@code hooks/qemu}. */
public record LibvirtVersion(int major, int minor, int micro) implements Comparable<LibvirtVersion> {
    /** The first libvirt that runs {@code hooks/qemu.d/*}. */
    public static final LibvirtVersion HOOK_DIRS = new LibvirtVersion(6, 5, 0);

    private static final Pattern VERSION = Pattern.compile("(\\d{1,4})\\.(\\d{1,4})(?:\\.(\\d{1,4}))?");

    /** Parses {@code 9.0.0}, {@code 6.5}, or the last version in a line such as {@code libvirtd (libvirt) 9.0.0}. */
    public static Optional<LibvirtVersion> find(String text) {
        Matcher m = VERSION.matcher(text);
        LibvirtVersion last = null;
        while (m.find()) {
            last = new LibvirtVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
        }
        return Optional.ofNullable(last);
    }

    /** For {@code --libvirt-version}: the whole text must be a version. */
    public static LibvirtVersion parse(String text) {
        if (!VERSION.matcher(text.strip()).matches()) {
            throw OrchestratorException.usage("--libvirt-version " + text + ": not a version; write it like 9.0.0"
                    + " (libvirtd --version shows it)");
        }
        return find(text).orElseThrow();
    }

    /**
     * Asks the installed daemon: {@code libvirtd --version}, else {@code virtqemud --version} (the
     * split daemons of newer distributions). Empty when neither runs.
     */
    public static Optional<LibvirtVersion> detect(CommandRunner runner) {
        for (String daemon : List.of("libvirtd", "virtqemud")) {
            try {
                CommandRunner.Result r = runner.run(List.of(daemon, "--version"), Duration.ofSeconds(10));
                if (r.exitCode() == 0) {
                    Optional<LibvirtVersion> v = find(r.stdout());
                    if (v.isPresent()) {
                        return v;
                    }
                }
            } catch (OrchestratorException e) {
                // not installed: try the next one
            }
        }
        return Optional.empty();
    }

    public boolean runsHookDirs() {
        return compareTo(HOOK_DIRS) >= 0;
    }

    @Override
    public int compareTo(LibvirtVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c == 0 ? Integer.compare(micro, o.micro) : c;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + micro;
    }
}
