package org.vfioorchestrator.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.testing.Damage;

/**
 * Our reader of plain block YAML held to SnakeYAML ({@link FullYaml}, as the loader uses it): what
 * ours takes, SnakeYAML reads into the same tree, positions included.
 */
class PlainYamlTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));

    /** SnakeYAML's tree, or null where it finds the YAML not valid. */
    static YamlNode snake(String text) {
        try {
            return FullYaml.read(text, "t.yaml");
        } catch (OrchestratorException e) {
            return null;
        }
    }

    /** A tree as text: kind, line:column, and scalars' values quoted. */
    static String describe(YamlNode n) {
        String at = n.line() + ":" + n.column();
        if (n instanceof YamlNode.Scalar s) {
            return "'" + s.value() + "'@" + at;
        }
        List<String> parts = new ArrayList<>();
        if (n instanceof YamlNode.Sequence l) {
            l.items().forEach(i -> parts.add(describe(i)));
            return "[" + String.join(", ", parts) + "]@" + at;
        }
        ((YamlNode.Mapping) n).entries().forEach(e -> parts.add(describe(e.key()) + ": " + describe(e.value())));
        return "{" + String.join(", ", parts) + "}@" + at;
    }

    /** The invariant: refused, or read exactly as SnakeYAML reads it. */
    static void assertAgreesOrRefuses(String text) {
        YamlNode ours = PlainYaml.read(text);
        if (ours != null) {
            YamlNode snake = snake(text);
            assertNotNull(snake, () -> "we take YAML that SnakeYAML finds not valid: " + text);
            assertEquals(describe(snake), describe(ours), () -> "we read it differently: " + text);
        }
    }

    private static void assertReadAsSnakeYamlReadsIt(String text) {
        YamlNode ours = PlainYaml.read(text);
        assertNotNull(ours, () -> "not taken: " + text);
        assertEquals(describe(snake(text)), describe(ours), text);
    }

    @Test
    void theProfilesWeShipAreReadWithoutSnakeYaml() throws Exception {
        List<Path> shipped = new ArrayList<>(List.of(REPO.resolve("profiles/template.yaml")));
        try (Stream<Path> files = Files.list(REPO.resolve("examples/profiles"))) {
            files.sorted().forEach(shipped::add);
        }
        for (Path p : shipped) {
            assertReadAsSnakeYamlReadsIt(Files.readString(p));
        }
        assertTrue(shipped.size() >= 2, "profiles: " + shipped);
    }

    @Test
    void everyProfileInTheFuzzCorpusIsRefusedOrReadAsSnakeYamlReadsIt() throws Exception {
        Path dir = REPO.resolve("orchestrator/src/test/resources/org/vfioorchestrator/profile");
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                assertAgreesOrRefuses(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void theSubsetReadsAsSnakeYamlReadsIt() {
        for (String text : List.of(
                "a: b",
                "a: b\n",
                "  a: b\n  c: d\n",
                "a: 0,16\nb: 0-3,8,10-11\nc: /sys/fs/cgroup/cpuset\nd: libvirtd.service\ne: +1\nf: x-\n",
                "a: 'x # not a comment'\nb: \"double\"\nc: ''\nd: \"\"\ne: 'a b: c'\n",
                "a: [1, 17, 2, 18]\nb: []\nc: [ ]\nd: [ x ,y ]\ne: ['a b', \"c\"]\n",
                "a:\n  b: 1\n  c:\n    - x\n    -   y\n",
                "a:\n- x\n- y\nb: z\n",
                "a:\n    b: 1\nc: 2\n",
                "# only a comment first\n\n   # indented comment\na: b # comment: with é, € and 😀\n  # between\nc: d\n",
                "a:    # the value is below\n  b: c\n",
                "yes: no\non: off\n1: 2\n",
                "a: b\na: c\n",
                "a: b  \n  \nc: d")) {
            assertReadAsSnakeYamlReadsIt(text);
        }
    }

    @Test
    void whatLeavesTheSubsetIsLeftToSnakeYaml() {
        for (String text : List.of(
                "", "# nothing\n", "---\na: b\n", "a: b\n...\n", "%YAML 1.1\n---\na: b\n", "- a\n- b\n", "just text\n",
                "a: b c\n", "a: b\n  c\n", "a: b\n  # comment\n  c\n", "a:\n", "a:\nb: c\n", "a: ~\n", "a: -1\n", "a: .5\n",
                "a: &x b\nc: *x\n", "a: !!str b\n", "a: {b: c}\n", "a: [b, [c]]\n", "a: [b,]\n", "a: [b,\n  c]\n",
                "a: |\n  b\n", "a: >\n  b\n", "a: 'it''s'\n", "a: \"\\t\"\n", "a: 'é'\n", "a: 'b\n  c'\n",
                "a:\tb\n", "\ta: b\n", "a: b\r\nc: d\r\n", "a: b\u0085c: d\n", "a: b # \u2028c: d\n", "\ufeffa: b\n",
                "a: b #\u0001\n", "a: b#c\n", "a:b\n", "a :b\n", "\"a\": b\n", "a b: c\n", "? a\n: b\n",
                "a:\n  - b\n  c: d\n", "a:\n  - b\n   - c\n", "a:\n  b: c\n d: e\n", "a: b\n- c\n", "a:\n  - - b\n",
                "a:\n  - b: c\n", "a:\n  -\n    b\n", "a: @b\n", "a: `b`\n", "a: ,b\n", "a: b:c\n",
                "k" + "x".repeat(200) + ": v\n",
                "a:\n b:\n  c:\n   d:\n    e: f\n")) {
            assertNull(PlainYaml.read(text), () -> "taken: " + text);
        }
    }

    @Test
    void damagedProfilesAreRefusedOrReadAsSnakeYamlReadsThem() throws Exception {
        String good = Files.readString(REPO.resolve("profiles/template.yaml"));
        String damage = ":-#[]{},'\"&*!|>%@`?~ \t\n\r\u0085\u2028\u00e9\u0000.+/_x0";
        SplittableRandom r = new SplittableRandom(17);
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            String text = Damage.of(good, r, damage);
            if (PlainYaml.read(text) == null) {
                refused++;
            } else {
                assertAgreesOrRefuses(text);
            }
        }
        assertTrue(refused > 100 && refused < 2900, "some damage leaves the subset, some does not: " + refused);
    }

    @Test
    void generatedDocumentsOfTheSubsetReadAsSnakeYamlReadsThem() {
        SplittableRandom r = new SplittableRandom(19);
        for (int i = 0; i < 2000; i++) {
            StringBuilder b = new StringBuilder();
            mapping(r, b, r.nextInt(3), 0);
            assertReadAsSnakeYamlReadsIt(b.toString());
        }
    }

    private static final String[] KEYS = {"vm", "host_cpus", "pin", "a", "A_1", "2", "yes", "null"};
    private static final String[] WORDS = {"0,16", "0-3,8", "auto", "true", "on", "/sys/fs/cgroup", "30s", "1.5",
        "+x", "a-b", "_", "null", "x.y.z", "0x1F", "1e3", "0o17"};
    private static final String[] QUOTED = {"''", "\"\"", "'a b'", "\"c: d\"", "'# e'", "\"[f]\"", "'!g'"};
    private static final String[] COMMENTS = {"", " # c", "   #", " # ü € 😀 #", " #:-[]"};

    private static void mapping(SplittableRandom r, StringBuilder b, int indent, int depth) {
        List<String> keys = new ArrayList<>();
        for (int n = r.nextInt(1, 5); n > 0; n--) {
            String key = KEYS[r.nextInt(KEYS.length)];
            if (r.nextInt(8) == 0) {
                b.append(" ".repeat(r.nextInt(6))).append(r.nextBoolean() ? "# comment line\n" : "\n");
            }
            b.append(" ".repeat(indent)).append(key).append(':');
            keys.add(key);
            int kind = depth < 2 ? r.nextInt(5) : r.nextInt(3);
            if (kind < 3) {
                b.append(" ".repeat(r.nextInt(1, 3))).append(value(r)).append(COMMENTS[r.nextInt(COMMENTS.length)]).append('\n');
            } else if (kind == 3) {
                b.append(COMMENTS[r.nextInt(COMMENTS.length)]).append('\n');
                mapping(r, b, indent + r.nextInt(1, 5), depth + 1);
            } else {
                b.append(COMMENTS[r.nextInt(COMMENTS.length)]).append('\n');
                int at = indent + r.nextInt(0, 4);
                for (int k = r.nextInt(1, 4); k > 0; k--) {
                    b.append(" ".repeat(at)).append('-').append(" ".repeat(r.nextInt(1, 3))).append(scalar(r))
                            .append(COMMENTS[r.nextInt(COMMENTS.length)]).append('\n');
                }
            }
        }
    }

    private static String value(SplittableRandom r) {
        if (r.nextInt(4) > 0) {
            return scalar(r);
        }
        List<String> items = new ArrayList<>();
        for (int k = r.nextInt(4); k > 0; k--) {
            String s = scalar(r);
            items.add(s.contains(",") && !s.startsWith("'") && !s.startsWith("\"") ? "x" : s);
        }
        String sep = r.nextBoolean() ? ", " : " ,";
        return "[" + (r.nextBoolean() ? "" : " ") + String.join(sep, items) + "]";
    }

    private static String scalar(SplittableRandom r) {
        return r.nextInt(4) == 0 ? QUOTED[r.nextInt(QUOTED.length)] : WORDS[r.nextInt(WORDS.length)];
    }
}
