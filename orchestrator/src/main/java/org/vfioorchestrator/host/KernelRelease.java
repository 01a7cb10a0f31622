package org.vfioorchestrator.host;

import java.util.Optional;

/**
 * The kernel's version as {@code /proc/sys/kernel/osrelease} gives it ("6.12.95+deb12-amd64" is 6.12): what
 * the kernel's interfaces had at the time, before a distribution added to them (RHEL's kernels carry newer
 * cpuset features than their numbers say), so a version says what to expect, and only the file itself what is.
 *
 * @param text  the release as the kernel prints it, stripped
 * @param major its first number
 * @param minor its second number (0 where there is none)
 */
public record KernelRelease(String text, int major, int minor) {
    public static final String FILE = "/proc/sys/kernel/osrelease";

    /** The host's kernel; empty when the file is missing or does not begin with a version. */
    public static Optional<KernelRelease> of(HostFs host) {
        return host.read(FILE).flatMap(KernelRelease::parse);
    }

    /** "MAJOR.MINOR..." or "MAJOR" followed by anything but a digit; empty for anything else. */
    public static Optional<KernelRelease> parse(String text) {
        String t = text.strip();
        int dot = leadingDigits(t, 0);
        if (dot == 0 || dot > 9) {
            return Optional.empty();
        }
        int major = Integer.parseInt(t.substring(0, dot));
        if (dot == t.length() || t.charAt(dot) != '.') {
            return Optional.of(new KernelRelease(t, major, 0));
        }
        int end = leadingDigits(t, dot + 1);
        return end == dot + 1 || end - dot > 10 ? Optional.empty()
                : Optional.of(new KernelRelease(t, major, Integer.parseInt(t.substring(dot + 1, end))));
    }

    /** Where the run of ASCII digits starting at {@code from} ends (no regular expression: the hook reads this). */
    private static int leadingDigits(String t, int from) {
        int i = from;
        while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
            i++;
        }
        return i;
    }

    /** This version or a later one. */
    public boolean atLeast(int wantMajor, int wantMinor) {
        return major > wantMajor || (major == wantMajor && minor >= wantMinor);
    }

    @Override
    public String toString() {
        return text;
    }
}
