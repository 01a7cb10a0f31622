package org.vfioorchestrator.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.testing.Damage;
import org.w3c.dom.Attr;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Our XML reader held to the JDK's DOM parser, configured as DomainXml configured it before (secure
 * processing, no DOCTYPE, no external anything, depth 100): what ours accepts, the JDK accepts and
 * reads into the same tree.
 */
class XmlParserTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));

    /** The JDK's reading of a document as our tree, or null where the JDK refuses it. */
    static XmlElement jdk(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newDefaultInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setAttribute("http://www.oracle.com/xml/jaxp/properties/maxElementDepth", "100");
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            f.setValidating(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(new DefaultHandler() {
                @Override
                public void error(org.xml.sax.SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return tree(b.parse(new InputSource(new StringReader(xml))).getDocumentElement());
        } catch (SAXException e) {
            return null;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static XmlElement tree(Element e) {
        Map<String, String> attributes = new LinkedHashMap<>();
        NamedNodeMap map = e.getAttributes();
        for (int i = 0; i < map.getLength(); i++) {
            Attr a = (Attr) map.item(i);
            attributes.put(a.getName(), a.getValue());
        }
        List<XmlElement> children = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                children.add(tree(c));
            }
        }
        return new XmlElement(e.getTagName(), attributes, children, e.getTextContent());
    }

    static XmlElement ours(String xml) {
        try {
            return XmlParser.parse(xml, DomainXml.MAX_DEPTH);
        } catch (XmlParser.Malformed e) {
            return null;
        }
    }

    /** The invariant: refused, or read exactly as the JDK reads it. */
    static void assertAgreesOrRefuses(String xml) {
        XmlElement ours = ours(xml);
        if (ours != null) {
            assertEquals(jdk(xml), ours, () -> "we accept, the JDK reads it differently or refuses it: " + xml);
        }
    }

    static List<String> realDomains() throws Exception {
        List<String> out = new ArrayList<>();
        for (Path dir : List.of(REPO.resolve("examples/domains"), REPO.resolve("examples/domains/doctor"),
                REPO.resolve("orchestrator/src/test/resources/org/vfioorchestrator/domain/DomainXmlFuzzTestInputs/"
                        + "parseReturnsADomainOrRefusesIt"))) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    out.add(Files.readString(f));
                }
            }
        }
        return out;
    }

    @Test
    void everyDomainXmlWeHaveReadsAsTheJdkReadsIt() throws Exception {
        int read = 0;
        for (String xml : realDomains()) {
            XmlElement jdk = jdk(xml);
            if (jdk != null && jdk.name().equals("domain")) {
                assertEquals(jdk, ours(xml), xml);
                read++;
            } else {
                assertAgreesOrRefuses(xml);
            }
        }
        assertTrue(read >= 9, "domain XMLs read: " + read);
    }

    @Test
    void generatedDocumentsReadAsTheJdkReadsThem() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 3000; i++) {
            StringBuilder b = new StringBuilder();
            if (r.nextInt(4) == 0) {
                b.append(r.nextBoolean() ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" : "<?xml version='1.0'?>");
            }
            misc(r, b);
            element(r, b, 0);
            misc(r, b);
            String xml = b.toString();
            XmlElement ours = ours(xml);
            assertNotNull(ours, xml);
            assertEquals(jdk(xml), ours, xml);
        }
    }

    @Test
    void damagedDomainsAreRefusedOrReadAsTheJdkReadsThem() throws Exception {
        String good = Files.readString(REPO.resolve("examples/domains/win11.xml"));
        String damage = "<>/&;'\"=!?-[]x#\n\r\t \u0000\u00e4\ud800";
        SplittableRandom r = new SplittableRandom(13);
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            String xml = Damage.of(good, r, damage);
            if (ours(xml) == null) {
                refused++;
            } else {
                assertAgreesOrRefuses(xml);
            }
        }
        assertTrue(refused > 300 && refused < 2900, "some damage is refused, some is harmless: " + refused);
    }

    @Test
    void limitsSitWhereTheJdksAre() {
        String deep100 = "<a>".repeat(100) + "</a>".repeat(100);
        String deep101 = "<a>".repeat(101) + "</a>".repeat(101);
        assertEquals(jdk(deep100), ours(deep100));
        assertEquals(null, jdk(deep101));
        assertEquals(null, ours(deep101));
        String longName = "<" + "n".repeat(XmlParser.MAX_NAME) + "/>";
        assertEquals(jdk(longName), ours(longName));
    }

    @Test
    void whatWeRefuseSaysWhatAndOnWhichLine() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("", "1: the document has no root element");
        bad.put("<domain><name>tiny</name>", "1: the document ends inside <domain>");
        bad.put("<a>\n<b></a>", "2: <b> is closed by </a>");
        bad.put("<a x='1' x='2'/>", "1: the attribute x appears twice in <a>");
        bad.put("<a x='1'y='2'/>", "1: <a> must be followed by attributes, '>' or '/>'");
        bad.put("<a x=1/>", "1: the value of x must be quoted");
        bad.put("<a x='<'/>", "1: '<' in the value of x");
        bad.put("<a>&x;</a>", "1: the entity \"x\" was referenced, but not declared");
        bad.put("<a>&#0;</a>", "1: the character reference &#0; is not a character XML allows");
        bad.put("<a>AT&T</a>", "1: '&' that does not start a reference (write &amp;)");
        bad.put("<a>]]></a>", "1: ']]>' in text");
        bad.put("<a>\u0001</a>", "1: the character U+0001, which XML does not allow");
        bad.put("<a><!-- a -- b --></a>", "1: '--' inside a comment");
        bad.put("<a/><b/>", "1: content after the root element");
        bad.put("text<a/>", "1: text before the root element");
        bad.put("\n<?xml version='1.0'?><a/>", "2: an XML declaration that is not at the very start");
        bad.put("<?xml version='1.1'?><a/>", "1: the XML declaration's version must be 1.0");
        bad.put("<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "1: the XML declaration's encoding must be UTF-8");
        bad.put("<a><!ENTITY x 'y'></a>", "1: markup that is not an element, comment or CDATA section");
        bad.put("<\u00e9/>", "1: a name was expected");
        bad.forEach((xml, message) -> {
            XmlParser.Malformed e = assertThrows(XmlParser.Malformed.class, () -> XmlParser.parse(xml, 100), xml);
            assertEquals(message, e.line + ": " + e.getMessage(), xml);
        });
    }

    @Test
    void aDoctypeAnywhereIsNamedAsSuch() {
        for (String xml : List.of("<!DOCTYPE a><a/>", "<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x 'y'>]><a/>",
                "<a><!DOCTYPE a></a>")) {
            XmlParser.Malformed e = assertThrows(XmlParser.Malformed.class, () -> XmlParser.parse(xml, 100), xml);
            assertTrue(e.doctype, xml);
        }
    }

    private static final String[] NAMES = {"domain", "name", "vcpu", "cputune", "vcpupin", "qemu:commandline", "a_b",
        "x-y.z", "_"};
    private static final String[] TEXTS = {"tiny", " ", "\n  ", "0-3,^2", "&lt;", "&gt;", "&amp;", "&quot;", "&apos;",
        "&#65;", "&#x1F600;", "\u00e4\u20ac", "\ud83d\ude00", "\r\n", "\r", "\t", "]]", "a>", "'\"", "<![CDATA[<&>]]>",
        "<!-- c -->", "<?pi data?>", "<?pi?>"};
    private static final String[] VALUES = {"", "1", "0-3", "a b", "\t\n", "\r\n", "&lt;&amp;", "&#9;&#10;&#13;",
        "&#x20AC;", "'", "\"", ">", "\u00e4"};

    private static void element(SplittableRandom r, StringBuilder b, int depth) {
        String name = NAMES[r.nextInt(NAMES.length)];
        b.append('<').append(name);
        List<String> used = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            String a = NAMES[r.nextInt(NAMES.length)];
            if (used.contains(a)) {
                continue;
            }
            used.add(a);
            String v = VALUES[r.nextInt(VALUES.length)];
            char q = v.contains("'") ? '"' : v.contains("\"") ? '\'' : r.nextBoolean() ? '"' : '\'';
            b.append(r.nextBoolean() ? " " : "\n\t").append(a).append(r.nextBoolean() ? "=" : " = ").append(q).append(v)
                    .append(q);
        }
        if (r.nextInt(5) == 0) {
            b.append(r.nextBoolean() ? "/>" : " />");
            return;
        }
        b.append('>');
        for (int i = r.nextInt(depth > 4 ? 2 : 5); i > 0; i--) {
            if (r.nextInt(3) == 0) {
                element(r, b, depth + 1);
            } else {
                b.append(TEXTS[r.nextInt(TEXTS.length)]);
            }
        }
        b.append("</").append(name).append(r.nextInt(4) == 0 ? " >" : ">");
    }

    private static void misc(SplittableRandom r, StringBuilder b) {
        for (int i = r.nextInt(3); i > 0; i--) {
            b.append(List.of("\n", " ", "<!-- x -->", "<?pi x?>", "\r\n").get(r.nextInt(5)));
        }
    }
}
