package org.vfioorchestrator.domain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of the XML that libvirt writes: elements, attributes, text, CDATA, comments,
 * processing instructions, the five predefined entities and character references, and a UTF-8
 * XML declaration. Anything else is refused, above all a DOCTYPE (so no entity of any kind, no
 * external DTD, no billion laughs: nothing in a document can make the reader open a file or grow),
 * and elements nested deeper than the caller's limit.
 *
 * <p>Ours rather than the JDK's DOM because libvirt runs the hook on every VM start, and the JDK's
 * parser costs a fresh JVM about 35 ms before it reads the first byte. It is held to the JDK's
 * parser (hardened as this class was before) by {@code XmlParserTest} and a Jazzer differential
 * target: every document it accepts, the JDK accepts too and reads into the same tree; it may refuse
 * more (names outside ASCII, other encodings).
 */
final class XmlParser {
    /** The JDK's secure-processing limit for a name, kept so that we never accept what it refuses. */
    static final int MAX_NAME = 1000;

    /** A document that is not well-formed XML (or uses what we refuse), with the line it went wrong on. */
    static final class Malformed extends Exception {
        final int line;
        final boolean doctype;
        final boolean tooDeep;

        Malformed(String message, int line, boolean doctype, boolean tooDeep) {
            super(message);
            this.line = line;
            this.doctype = doctype;
            this.tooDeep = tooDeep;
        }
    }

    private final String s;
    private final int maxDepth;
    private int pos;

    private XmlParser(String text, int maxDepth) {
        // line ends as XML defines them: CR LF and a lone CR are one LF
        this.s = text.indexOf('\r') < 0 ? text : text.replace("\r\n", "\n").replace('\r', '\n');
        this.maxDepth = maxDepth;
    }

    /** The root element of a document, or {@link Malformed}. */
    static XmlElement parse(String text, int maxDepth) throws Malformed {
        return new XmlParser(text, maxDepth).document();
    }

    private XmlElement document() throws Malformed {
        if (s.startsWith("<?xml") && s.length() > 5 && (isSpace(s.charAt(5)) || s.charAt(5) == '?')) {
            declaration();
        }
        misc();
        if (s.startsWith("<!DOCTYPE", pos)) {
            throw new Malformed("a DOCTYPE", line(), true, false);
        }
        if (pos >= s.length() || s.charAt(pos) != '<') {
            throw error(pos >= s.length() ? "the document has no root element" : "text before the root element");
        }
        XmlElement root = element(1);
        misc();
        if (pos < s.length()) {
            throw error("content after the root element");
        }
        return root;
    }

    /** {@code <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"]?>}, exactly. */
    private void declaration() throws Malformed {
        pos = 5;
        if (!pseudoAttribute("version", "1.0")) {
            throw error("the XML declaration needs version=\"1.0\"");
        }
        pseudoAttribute("encoding", "UTF-8");
        pseudoAttribute("standalone", "yes", "no");
        space();
        expect("?>", "the XML declaration is not closed by ?>");
    }

    private boolean pseudoAttribute(String name, String... allowed) throws Malformed {
        int start = pos;
        if (!space() || !s.startsWith(name, pos)) {
            pos = start;
            return false;
        }
        pos += name.length();
        space();
        expect("=", "'=' after " + name);
        space();
        String value = quoted(name);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(value)) {
                return true;
            }
        }
        throw error("the XML declaration's " + name + " must be " + String.join(" or ", allowed));
    }

    private String quoted(String what) throws Malformed {
        char q = pos < s.length() ? s.charAt(pos) : 0;
        int end = q == '"' || q == '\'' ? s.indexOf(q, pos + 1) : -1;
        if (end < 0) {
            throw error("a quoted value for " + what);
        }
        String v = s.substring(pos + 1, end);
        pos = end + 1;
        return v;
    }

    /** Comments, processing instructions and white space, before and after the root element. */
    private void misc() throws Malformed {
        while (true) {
            space();
            if (s.startsWith("<!--", pos)) {
                comment();
            } else if (s.startsWith("<?", pos)) {
                instruction();
            } else {
                return;
            }
        }
    }

    private XmlElement element(int depth) throws Malformed {
        if (depth > maxDepth) {
            throw new Malformed("elements nested more than " + maxDepth + " deep", line(), false, true);
        }
        pos++;
        String name = name();
        Map<String, String> attributes = new LinkedHashMap<>();
        while (true) {
            boolean spaced = space();
            if (s.startsWith("/>", pos)) {
                pos += 2;
                return new XmlElement(name, attributes, List.of(), "");
            }
            if (pos < s.length() && s.charAt(pos) == '>') {
                pos++;
                break;
            }
            if (pos >= s.length()) {
                throw error("the document ends inside the tag <" + name + ">");
            }
            if (!spaced) {
                throw error("<" + name + "> must be followed by attributes, '>' or '/>'");
            }
            String attribute = name();
            space();
            expect("=", "'=' after the attribute " + attribute);
            space();
            String value = attributeValue(attribute);
            if (attributes.put(attribute, value) != null) {
                throw error("the attribute " + attribute + " appears twice in <" + name + ">");
            }
        }
        List<XmlElement> children = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("the document ends inside <" + name + ">");
            }
            char c = s.charAt(pos);
            if (c == '<') {
                if (s.startsWith("</", pos)) {
                    pos += 2;
                    String end = name();
                    space();
                    expect(">", "'>' to close </" + end);
                    if (!end.equals(name)) {
                        throw error("<" + name + "> is closed by </" + end + ">");
                    }
                    return new XmlElement(name, attributes, children, text.toString());
                } else if (s.startsWith("<!--", pos)) {
                    comment();
                } else if (s.startsWith("<![CDATA[", pos)) {
                    int end = s.indexOf("]]>", pos + 9);
                    if (end < 0) {
                        throw error("a CDATA section is not closed by ]]>");
                    }
                    checkChars(pos + 9, end);
                    text.append(s, pos + 9, end);
                    pos = end + 3;
                } else if (s.startsWith("<?", pos)) {
                    instruction();
                } else if (s.startsWith("<!DOCTYPE", pos)) {
                    throw new Malformed("a DOCTYPE", line(), true, false);
                } else if (s.startsWith("<!", pos)) {
                    throw error("markup that is not an element, comment or CDATA section");
                } else {
                    XmlElement child = element(depth + 1);
                    children.add(child);
                    text.append(child.text());
                }
            } else if (c == '&') {
                reference(text);
            } else {
                if (c == ']' && s.startsWith("]]>", pos)) {
                    throw error("']]>' in text");
                }
                pos = checkChar(pos);
                text.append(s, pos - (Character.isHighSurrogate(c) ? 2 : 1), pos);
            }
        }
    }

    private String attributeValue(String attribute) throws Malformed {
        char q = pos < s.length() ? s.charAt(pos) : 0;
        if (q != '"' && q != '\'') {
            throw error("the value of " + attribute + " must be quoted");
        }
        pos++;
        StringBuilder v = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("the value of " + attribute + " is not closed");
            }
            char c = s.charAt(pos);
            if (c == q) {
                pos++;
                return v.toString();
            } else if (c == '<') {
                throw error("'<' in the value of " + attribute);
            } else if (c == '&') {
                reference(v);
            } else if (c == '\n' || c == '\t') {
                v.append(' '); // attribute-value normalisation; a character reference keeps its character
                pos++;
            } else {
                pos = checkChar(pos);
                v.append(s, pos - (Character.isHighSurrogate(c) ? 2 : 1), pos);
            }
        }
    }

    /** {@code &lt;} and the other four, {@code &#10;}, {@code &#xA;}; any other entity was never declared. */
    private void reference(StringBuilder out) throws Malformed {
        int semi = s.indexOf(';', pos);
        if (semi < 0 || semi - pos > 12) {
            throw error("'&' that does not start a reference (write &amp;)");
        }
        String ref = s.substring(pos + 1, semi);
        switch (ref) {
            case "lt" -> out.append('<');
            case "gt" -> out.append('>');
            case "amp" -> out.append('&');
            case "quot" -> out.append('"');
            case "apos" -> out.append('\'');
            default -> {
                if (!ref.startsWith("#")) {
                    throw error("the entity \"" + ref + "\" was referenced, but not declared");
                }
                boolean hex = ref.startsWith("#x");
                String digits = ref.substring(hex ? 2 : 1);
                int cp = digits.isEmpty() ? -1 : 0;
                for (int i = 0; i < digits.length() && cp >= 0; i++) {
                    int d = digitOf(digits.charAt(i), hex ? 16 : 10);
                    cp = d < 0 || cp > 0x10FFFF ? -1 : cp * (hex ? 16 : 10) + d;
                }
                if (!isXmlChar(cp)) {
                    throw error("the character reference &" + ref + "; is not a character XML allows");
                }
                out.appendCodePoint(cp);
            }
        }
        pos = semi + 1;
    }

    private static int digitOf(char c, int radix) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (radix == 16 && c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (radix == 16 && c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private void comment() throws Malformed {
        int end = s.indexOf("--", pos + 4);
        if (end < 0) {
            throw error("a comment is not closed by -->");
        }
        if (end + 2 >= s.length() || s.charAt(end + 2) != '>') {
            throw error("'--' inside a comment");
        }
        checkChars(pos + 4, end);
        pos = end + 3;
    }

    private void instruction() throws Malformed {
        pos += 2;
        String target = name();
        if (target.equalsIgnoreCase("xml")) {
            throw error("an XML declaration that is not at the very start");
        }
        int end = s.indexOf("?>", pos);
        if (end < 0) {
            throw error("a processing instruction is not closed by ?>");
        }
        if (end > pos && !isSpace(s.charAt(pos))) {
            throw error("a processing instruction's target must be followed by a space");
        }
        checkChars(pos, end);
        pos = end + 2;
    }

    /** An ASCII XML name (libvirt writes no other); the JDK accepts every one of them. */
    private String name() throws Malformed {
        int start = pos;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            boolean first = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
            if (!first && (pos == start || !((c >= '0' && c <= '9') || c == '.' || c == '-'))) {
                break;
            }
            pos++;
        }
        if (pos == start) {
            throw error(pos >= s.length() ? "the document ends where a name should be" : "a name was expected");
        }
        if (pos - start > MAX_NAME) {
            throw error("a name longer than " + MAX_NAME + " characters");
        }
        return s.substring(start, pos);
    }

    private boolean space() {
        int start = pos;
        while (pos < s.length() && isSpace(s.charAt(pos))) {
            pos++;
        }
        return pos > start;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\t';
    }

    private void expect(String token, String what) throws Malformed {
        if (!s.startsWith(token, pos)) {
            throw error("expected " + what);
        }
        pos += token.length();
    }

    private void checkChars(int from, int to) throws Malformed {
        for (int i = from; i < to; ) {
            i = checkChar(i);
        }
    }

    /** Checks the character at {@code i} (a surrogate pair counts as one); returns the index after it. */
    private int checkChar(int i) throws Malformed {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            return i + 2;
        }
        if (!isXmlChar(c)) {
            pos = i;
            throw error(String.format("the character U+%04X, which XML does not allow", (int) c));
        }
        return i + 1;
    }

    private static boolean isXmlChar(int cp) {
        return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD)
                || (cp >= 0x10000 && cp <= 0x10FFFF);
    }

    private int line() {
        int line = 1;
        for (int i = 0; i < pos && i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    private Malformed error(String what) {
        return new Malformed(what, line(), false, false);
    }
}
