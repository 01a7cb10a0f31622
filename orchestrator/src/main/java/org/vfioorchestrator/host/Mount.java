package org.vfioorchestrator.host;

import java.util.List;
import java.util.Optional;

/** One line of /proc/mounts. */
public record Mount(String device, String mountPoint, String fsType) {

    /** The mount that holds {@code path} (longest mount point that is a prefix), from the host's /proc/mounts. */
    public static Optional<Mount> containing(HostFs fs, String path) {
        Mount best = null;
        for (String line : fs.read("/proc/mounts").orElse("").split("\n")) {
            List<String> f = KernelText.words(line);
            if (f.size() < 3) {
                continue;
            }
            Mount m = new Mount(unescape(f.get(0)), unescape(f.get(1)), f.get(2));
            String mp = m.mountPoint();
            boolean holds = mp.equals("/") || path.equals(mp) || path.startsWith(mp.endsWith("/") ? mp : mp + "/");
            // a later mount on the same point hides the earlier one
            if (holds && (best == null || mp.length() >= best.mountPoint().length())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The kernel writes space, tab, newline and backslash as octal escapes ({@code \040}). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && isOctal(s.charAt(i + 1)) && isOctal(s.charAt(i + 2))
                    && isOctal(s.charAt(i + 3))) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(char c) {
        return c >= '0' && c <= '7';
    }
}
