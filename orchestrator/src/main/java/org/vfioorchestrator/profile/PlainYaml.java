package org.vfioorchestrator.profile;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the plain block YAML profiles are written in, without SnakeYAML, whose classes (with the first
 * regular expression and lambdas of the JVM) cost a hook call about 35 ms. It takes a strict subset of
 * YAML, and reads the same tree SnakeYAML does from every document it takes ({@code PlainYamlTest} and
 * the fuzz target {@code PlainYamlFuzzTest} check that). Anything else it leaves to {@link FullYaml}:
 * {@link #read} returns null, and says nothing about why; FullYaml reads it or names the mistake.
 *
 * <p>The subset, one construct per line:
 * <ul>
 * <li>lines end in {@code \n} and are indented with spaces;
 * <li>a mapping: lines {@code key: value}, or {@code key:} and its value on the lines below, indented
 *     more (a mapping or a list) or level with the key (a list); keys are letters, digits and {@code _};
 * <li>a list: lines {@code - value} with the same indentation;
 * <li>a value: a word of letters, digits and {@code _ . , / + -} that starts with a letter, digit,
 *     {@code _}, {@code /} or {@code +}; a quoted {@code 'text'} or {@code "text"} of printable ASCII
 *     without quotes or backslashes; or a one-line list {@code [a, b]} of those (words without commas);
 * <li>comments: {@code #} at the start of a line or after a space, to the end of the line.
 * </ul>
 */
final class PlainYaml {
    /** Well below SnakeYAML's limits (nesting 20, 64 Ki code points, keys 1024 characters). */
    private static final int MAX_DEPTH = 4;
    private static final int MAX_CHARS = 60_000;
    private static final int MAX_KEY = 128;

    /** Thrown inside the reader where the text leaves the subset; never seen outside. */
    private static final class NotPlain extends Exception {
        NotPlain() {
            super(null, null, false, false);
        }
    }

    /** A line with something on it besides a comment: its number (from 1), indentation and text. */
    private record Line(int number, int indent, String text) {
        boolean isListItem() {
            return text.length() > indent && text.charAt(indent) == '-'
                    && (text.length() == indent + 1 || text.charAt(indent + 1) == ' ');
        }
    }

    private final List<Line> lines;
    private int at;

    private PlainYaml(List<Line> lines) {
        this.lines = lines;
    }

    /** The document's tree, or null where the text is not plain block YAML as described above. */
    static YamlNode read(String text) {
        try {
            List<Line> lines = contentLines(text);
            if (lines.isEmpty()) {
                return null;
            }
            PlainYaml reader = new PlainYaml(lines);
            YamlNode root = reader.block(1);
            // a line no block took is indented into a value, or a list item after a value, or the like
            if (!(root instanceof YamlNode.Mapping) || reader.at < lines.size()) {
                return null;
            }
            return root;
        } catch (NotPlain e) {
            return null;
        }
    }

    /**
     * Splits the text at line feeds, dropping blank and comment lines. A comment's characters are checked
     * here, the rest by the grammar, which takes no character YAML could read as a line break (CR, NEL,
     * U+2028) or would refuse.
     */
    private static List<Line> contentLines(String text) throws NotPlain {
        if (text.length() > MAX_CHARS) {
            throw new NotPlain();
        }
        List<Line> out = new ArrayList<>();
        int number = 1;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end);
            int indent = 0;
            while (indent < line.length() && line.charAt(indent) == ' ') {
                indent++;
            }
            if (indent < line.length()) {
                if (line.charAt(indent) == '#') {
                    checkComment(line, indent + 1);
                } else {
                    out.add(new Line(number, indent, line));
                }
            }
            number++;
            start = end + 1;
        }
        return out;
    }

    /** Reads the mapping or list that starts at the current line. */
    private YamlNode block(int depth) throws NotPlain {
        if (depth > MAX_DEPTH) {
            throw new NotPlain();
        }
        Line first = lines.get(at);
        return first.isListItem() ? list(first.indent, depth) : mapping(first.indent, depth);
    }

    private YamlNode mapping(int indent, int depth) throws NotPlain {
        Line first = lines.get(at);
        YamlNode.Mapping mapping = new YamlNode.Mapping(first.number, indent + 1);
        while (at < lines.size() && lines.get(at).indent == indent && !lines.get(at).isListItem()) {
            Line line = lines.get(at);
            String s = line.text;
            int colon = indent;
            while (colon < s.length() && colon - indent <= MAX_KEY && isKeyChar(s.charAt(colon))) {
                colon++;
            }
            if (colon == indent || colon - indent > MAX_KEY || colon == s.length() || s.charAt(colon) != ':'
                    || (colon + 1 < s.length() && s.charAt(colon + 1) != ' ')) {
                throw new NotPlain();
            }
            YamlNode key = new YamlNode.Scalar(s.substring(indent, colon), line.number, indent + 1);
            int p = skipSpaces(s, colon + 1);
            YamlNode value;
            if (p == s.length() || s.charAt(p) == '#') {
                checkComment(s, p + 1);
                at++;
                // the value is on the lines below: indented more, or a list level with the key
                if (at < lines.size() && lines.get(at).indent > indent) {
                    value = block(depth + 1);
                } else if (at < lines.size() && lines.get(at).indent == indent && lines.get(at).isListItem()) {
                    value = list(indent, depth + 1);
                } else {
                    throw new NotPlain(); // an empty value
                }
            } else {
                value = valueToLineEnd(line, p);
                at++;
            }
            mapping.entries().add(new YamlNode.Entry(key, value));
        }
        return mapping;
    }

    private YamlNode list(int indent, int depth) throws NotPlain {
        if (depth > MAX_DEPTH) {
            throw new NotPlain();
        }
        YamlNode.Sequence list = new YamlNode.Sequence(lines.get(at).number, indent + 1);
        while (at < lines.size() && lines.get(at).indent == indent && lines.get(at).isListItem()) {
            Line line = lines.get(at);
            int p = skipSpaces(line.text, indent + 1);
            if (p == line.text.length() || line.text.charAt(p) == '#') {
                throw new NotPlain(); // an empty item, or one on the lines below
            }
            list.items().add(valueToLineEnd(line, p));
            at++;
        }
        return list;
    }

    /** A value that starts at {@code p} and is all the line holds, but for spaces and a comment. */
    private static YamlNode valueToLineEnd(Line line, int p) throws NotPlain {
        String s = line.text;
        YamlNode value;
        int end;
        if (s.charAt(p) == '[') {
            YamlNode.Sequence list = new YamlNode.Sequence(line.number, p + 1);
            int q = skipSpaces(s, p + 1);
            if (q < s.length() && s.charAt(q) == ']') {
                end = q + 1;
            } else {
                while (true) {
                    int itemEnd = scalarEnd(s, q, true);
                    list.items().add(scalar(line, q, itemEnd));
                    q = skipSpaces(s, itemEnd);
                    if (q < s.length() && s.charAt(q) == ',') {
                        q = skipSpaces(s, q + 1);
                    } else if (q < s.length() && s.charAt(q) == ']') {
                        end = q + 1;
                        break;
                    } else {
                        throw new NotPlain();
                    }
                }
            }
            value = list;
        } else {
            end = scalarEnd(s, p, false);
            value = scalar(line, p, end);
        }
        int rest = skipSpaces(s, end);
        if (rest < s.length() && (s.charAt(rest) != '#' || rest == end)) {
            throw new NotPlain(); // more after the value, or a # that does not start a comment
        }
        if (rest < s.length()) {
            checkComment(s, rest + 1);
        }
        return value;
    }

    /** Where the word or quoted text starting at {@code p} ends (exclusive); {@code inList}: inside [ ]. */
    private static int scalarEnd(String s, int p, boolean inList) throws NotPlain {
        if (p >= s.length()) {
            throw new NotPlain();
        }
        char open = s.charAt(p);
        if (open == '\'' || open == '"') {
            for (int i = p + 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == open) {
                    return i + 1;
                }
                if (c < 0x20 || c > 0x7e || c == '\\' || c == '\'' || c == '"') {
                    throw new NotPlain();
                }
            }
            throw new NotPlain(); // not closed on this line
        }
        if (!isKeyChar(open) && open != '/' && open != '+') {
            throw new NotPlain();
        }
        int i = p + 1;
        while (i < s.length() && isWordChar(s.charAt(i), inList)) {
            i++;
        }
        return i;
    }

    private static YamlNode scalar(Line line, int start, int end) {
        char first = line.text.charAt(start);
        String value = first == '\'' || first == '"' ? line.text.substring(start + 1, end - 1) : line.text.substring(start, end);
        return new YamlNode.Scalar(value, line.number, start + 1);
    }

    /** The text of a comment, from {@code from} to the line's end: anything YAML prints, but line breaks and BOMs. */
    private static void checkComment(String s, int from) throws NotPlain {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean printable = (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff && c != 0x2028 && c != 0x2029)
                    || (c >= 0xe000 && c <= 0xfffd && c != 0xfeff)
                    || (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)));
            if (!printable) {
                throw new NotPlain();
            }
            if (Character.isHighSurrogate(c)) {
                i++;
            }
        }
    }

    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    private static boolean isWordChar(char c, boolean inList) {
        return isKeyChar(c) || c == '.' || c == '/' || c == '+' || c == '-' || (c == ',' && !inList);
    }

    private static int skipSpaces(String s, int from) {
        int i = from;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return i;
    }
}
