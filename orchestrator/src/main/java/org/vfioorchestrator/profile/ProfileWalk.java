package org.vfioorchestrator.profile;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.measure.Durations;

/**
 * Walks a profile's YAML tree for the loader and each tunable's section: collects every problem with its
 * file, line and column and the key; a value of the wrong kind is reported and read as null.
 */
public final class ProfileWalk {
    final String source;
    final List<String> problems = new ArrayList<>();
    private final Map<YamlNode, Boolean> seen = new IdentityHashMap<>();
    /** The keys allowed in each mapping: "" is the top level, a section's name its own keys. */
    private final Map<String, Set<String>> schema;

    ProfileWalk(String source, Map<String, Set<String>> schema) {
        this.source = source;
        this.schema = schema;
    }

    public void problem(YamlNode at, String key, String message) {
        problems.add(source + ":" + at.line() + ":" + at.column() + ": " + key + ": " + message);
    }

    /** A node reached twice is a YAML alias; profiles are small and never need them. */
    public boolean firstVisit(YamlNode n, String key) {
        if (seen.put(n, Boolean.TRUE) != null) {
            problem(n, key, "YAML aliases (*name) are not allowed in a profile; write the value out");
            return false;
        }
        return true;
    }

    public Map<String, YamlNode> mapping(YamlNode n, String key) {
        if (!(n instanceof YamlNode.Mapping mn)) {
            problem(n, key.isEmpty() ? "profile" : key, "expected a mapping of keys (" + String.join(", ",
                    sorted(schema.get(key))) + ")");
            return Map.of();
        }
        if (!firstVisit(n, key)) {
            return Map.of();
        }
        Map<String, YamlNode> out = new LinkedHashMap<>();
        Set<String> allowed = schema.get(key);
        for (YamlNode.Entry t : mn.entries()) {
            String k = t.key() instanceof YamlNode.Scalar s ? s.value() : null;
            String full = key.isEmpty() ? String.valueOf(k) : key + "." + k;
            if (k == null) {
                problem(t.key(), key.isEmpty() ? "profile" : key, "keys must be plain words");
            } else if (!allowed.contains(k)) {
                String hint = closest(k, allowed);
                problem(t.key(), full, "unknown key" + (hint == null ? "" : "; did you mean '" + hint + "'?")
                        + " Allowed here: " + String.join(", ", sorted(allowed)));
            } else if (out.containsKey(k)) {
                problem(t.key(), full, "given twice; keep one");
            } else {
                out.put(k, t.value());
            }
        }
        return out;
    }

    public String scalar(YamlNode n, String key, String expected) {
        if (n instanceof YamlNode.Scalar s && firstVisit(n, key)) {
            return s.value();
        }
        if (!(n instanceof YamlNode.Scalar)) {
            problem(n, key, "expected " + expected + ", not a " + kind(n));
        }
        return null;
    }

    public Boolean bool(YamlNode n, String key) {
        String v = scalar(n, key, "true or false");
        if (v == null) {
            return null;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Boolean.TRUE;
            case "false", "no", "off" -> Boolean.FALSE;
            default -> {
                problem(n, key, "'" + v + "' is not true or false");
                yield null;
            }
        };
    }

    public Integer integer(YamlNode n, String key, int min, int max) {
        String v = scalar(n, key, "a whole number");
        if (v == null) {
            return null;
        }
        BigInteger i;
        try {
            i = new BigInteger(v.strip()); // any number of digits: one too large for an int is out of range, not malformed
        } catch (NumberFormatException e) {
            problem(n, key, "'" + v + "' is not a whole number");
            return null;
        }
        if (i.compareTo(BigInteger.valueOf(min)) < 0 || i.compareTo(BigInteger.valueOf(max)) > 0) {
            problem(n, key, i + " is out of range; write a number from " + min + " to " + max);
            return null;
        }
        return i.intValueExact();
    }

    public CpuSet cpus(YamlNode n, String key) {
        String v = scalar(n, key, "a CPU list such as 0-3,8");
        if (v == null) {
            return null;
        }
        try {
            return CpuSet.parseList(v);
        } catch (CpuSetFormatException e) {
            problem(n, key, "bad CPU list " + e.getMessage() + "; write it like 0-3,8,10-11");
            return null;
        }
    }

    public <E extends Enum<E>> E choice(YamlNode n, String key, Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        String v = scalar(n, key, "one of " + String.join(", ", names));
        if (v == null) {
            return null;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        problem(n, key, "'" + v + "' is not allowed; write one of " + String.join(", ", names));
        return null;
    }

    public List<String> words(YamlNode n, String key) {
        if (!(n instanceof YamlNode.Sequence seq)) {
            problem(n, key, "expected a list like [writeback], not a " + kind(n));
            return null;
        }
        List<String> out = new ArrayList<>();
        for (YamlNode item : seq.items()) {
            String v = scalar(item, key, "a name");
            if (v != null) {
                out.add(v);
            }
        }
        return out;
    }

    /** A duration as {@code measure --duration} takes it ({@link Durations}): 30, 30s, 2m, 1h or 500ms. */
    public Duration duration(YamlNode n, String key) {
        String v = scalar(n, key, "a duration such as 30s");
        if (v == null) {
            return null;
        }
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            problem(n, key, e.getMessage());
            return null;
        }
    }

    private static String kind(YamlNode n) {
        return n instanceof YamlNode.Mapping ? "mapping" : n instanceof YamlNode.Sequence ? "list" : "single value";
    }

    private static List<String> sorted(Set<String> s) {
        List<String> out = new ArrayList<>(s);
        Collections.sort(out);
        return out;
    }

    /** The allowed key nearest to a typo, if it is near enough to be a typo. */
    static String closest(String key, Set<String> allowed) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : sorted(allowed)) {
            if (key.length() >= 3 && a.startsWith(key.toLowerCase(Locale.ROOT))) {
                return a; // 'move' for 'move_to_host'
            }
        }
        for (String a : allowed) {
            int d = editDistance(key.toLowerCase(Locale.ROOT), a);
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
