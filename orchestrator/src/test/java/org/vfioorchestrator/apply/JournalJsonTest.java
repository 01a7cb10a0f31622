package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.testing.Damage;

/** The journal's own JSON, held to jackson-jr (what the journal was written with before). */
class JournalJsonTest {

    @Test
    void randomJournalValuesSurviveTheTripAndJacksonAgrees() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 2000; i++) {
            Object v = value(r, 0);
            String text = JournalJson.write(v);
            assertEquals(v, JournalJson.read(text), text);
            assertEquals(v, longs(JSON.std.anyFrom(text)), "jackson-jr reads our text the same: " + text);
            String theirs = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(v);
            assertEquals(withoutNullMembers(v), JournalJson.read(theirs), "we read jackson-jr's text the same: " + theirs);
        }
    }

    @Test
    void aRealJournalReadsLikeJacksonReadsIt() throws Exception {
        String text = JournalJson.write(sampleJournal());
        assertEquals(longs(JSON.std.anyFrom(text)), JournalJson.read(text));
        assertTrue(text.contains("\n  \"entries\": [\n"), text); // indented for people who read it
    }

    @Test
    void anythingOutsideTheJournalsJsonIsRefusedWithWhereItWent() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("", "unexpected end at offset 0");
        bad.put("{", "expected a key at offset 1");
        bad.put("{\"a\":1,}", "expected a key at offset 7");
        bad.put("[1 2]", "expected ']' at offset 3");
        bad.put("{\"a\":1}x", "text after the end at offset 7");
        bad.put("\"a\u0001\"", "a control character in a string at offset 3");
        bad.put("01", "a malformed number at offset 2");
        bad.put("-", "a malformed number at offset 1");
        bad.put("1.5", "a number that is not an integer at offset 1");
        bad.put("2e3", "a number that is not an integer at offset 1");
        bad.put("9223372036854775808", "a number out of range at offset 19");
        bad.put("{\"a\":1,\"a\":2}", "duplicate key \"a\" at offset 7");
        bad.put("tru", "unexpected 't' at offset 0");
        bad.put("NaN", "unexpected 'N' at offset 0");
        bad.put("\"\\u12\"", "a short \\u escape at offset 3");
        bad.put("\"\\u12x4\"", "a bad \\u escape at offset 6");
        bad.put("\"\\q\"", "a bad escape \\q at offset 3");
        bad.put("\"open", "unterminated string at offset 5");
        bad.put("[".repeat(40) + "]".repeat(40), "nested deeper than 32 at offset 33");
        bad.forEach((text, message) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JournalJson.read(text), text);
            assertEquals(message, e.getMessage(), text);
        });
        assertThrows(IllegalArgumentException.class, () -> JournalJson.write(List.of(1.5)), "no floats in a journal");
    }

    @Test
    void damagedJournalsAreRefusedOrReadExactlyAsJacksonReadsThem() throws Exception {
        String good = JournalJson.write(sampleJournal());
        SplittableRandom r = new SplittableRandom(5);
        int refused = 0;
        for (int i = 0; i < 5000; i++) {
            String text = Damage.of(good, r, DAMAGE);
            Object ours;
            try {
                ours = JournalJson.read(text);
            } catch (IllegalArgumentException e) {
                refused++;
                continue;
            }
            assertEquals(longs(JSON.std.anyFrom(text)), ours, text);
        }
        assertTrue(refused > 1000, "most damage is refused: " + refused);
    }

    private static final String DAMAGE = "{}[]\",:\\0-1e.tfn \n\u0000x";

    static Map<String, Object> sampleJournal() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("type", "WRITE");
        entry.put("path", "/proc/irq/42/smp_affinity_list");
        entry.put("original", "0-31");
        entry.put("expected", "0-7,16-23");
        entry.put("pids", List.of(1, 2, 4242));
        entry.put("startTime", 12_345_678_901L);
        entry.put("inFlight", List.of("0-31", "8"));
        Map<String, Object> vm = new LinkedHashMap<>();
        vm.put("profileSource", "/etc/vfio-orchestrator/profiles/win11.yaml");
        vm.put("profileText", "# Gäming \"rig\"\nhost_cpus: 0-7\n\tvcpus: {pin: auto}\n");
        vm.put("appliedAt", "2026-11-23T18:00:00Z");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", 2L);
        m.put("bootId", "1b0c6a4e-0000-4000-8000-000000000000");
        m.put("vms", Map.of("win11", vm));
        m.put("entries", List.of(entry, entry));
        m.put("none", null);
        m.put("flag", true);
        return m;
    }

    private static Object value(SplittableRandom r, int depth) {
        int kind = r.nextInt(depth > 4 ? 5 : 7);
        return switch (kind) {
            case 0 -> null;
            case 1 -> r.nextBoolean();
            case 2 -> r.nextBoolean() ? r.nextLong() : (long) r.nextInt(-5, 5);
            case 3, 4 -> string(r);
            case 5 -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(5); i > 0; i--) {
                    m.put(string(r), value(r, depth + 1));
                }
                yield m;
            }
            default -> {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(5); i > 0; i--) {
                    l.add(value(r, depth + 1));
                }
                yield l;
            }
        };
    }

    /** Printable text, quotes, escapes, control characters, non-ASCII, emoji and the odd lone surrogate. */
    private static String string(SplittableRandom r) {
        String alphabet = "ab0 /:\"\\\n\t\r\b\f\u0000\u001f\u007fäé€\u2028\ud83d\ude00";
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(12); i > 0; i--) {
            b.append(r.nextInt(50) == 0 ? (char) r.nextInt(0xd800, 0xe000) : alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** jackson-jr leaves out members whose value is null; ours writes them (a journal reader sees null either way). */
    private static Object withoutNullMembers(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> {
                if (x != null) {
                    out.put(k, withoutNullMembers(x));
                }
            });
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(withoutNullMembers(x)));
            return out;
        }
        return v;
    }

    /** jackson-jr reads small integers as Integer, ours as Long. */
    static Object longs(Object v) {
        if (v instanceof Integer i) {
            return i.longValue();
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, longs(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(JournalJsonTest::longs).toList();
        }
        return v;
    }
}
