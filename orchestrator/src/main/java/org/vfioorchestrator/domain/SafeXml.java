package org.vfioorchestrator.domain;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.stream.XMLInputFactory;
import org.vfioorchestrator.OrchestratorException;

/**
 * The JDK's XML parsers, hardened the same way for both readers of a domain XML ({@link DomainXml}'s
 * DOM, {@link DomainFacts}' StAX): no DOCTYPE (so no entities, internal or external, and no billion
 * laughs), nothing fetched from anywhere, elements at most {@link #MAX_DEPTH} deep, and at most
 * {@link DomainXml#MAX_BYTES}. libvirt never writes a DOCTYPE, so refusing one costs nothing. The
 * refusals are worded here once, so both readers say the same about the same document.
 */
final class SafeXml {
    /** libvirt's domain XML is under ten elements deep; anything near this is not one. */
    static final int MAX_DEPTH = 100;
    /** The JDK's limit on element depth (JAXP), which its DOM and StAX parsers both enforce. */
    private static final String MAX_DEPTH_PROPERTY = "jdk.xml.maxElementDepth";

    private SafeXml() {
    }

    /** The JDK's own DOM parser (never one a jar on the class path registers), hardened. */
    static DocumentBuilderFactory documents() {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newDefaultInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            // the DOM walks some trees recursively (getTextContent): a deep one would overflow the stack
            f.setAttribute(MAX_DEPTH_PROPERTY, Integer.toString(MAX_DEPTH));
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            f.setValidating(false);
            return f;
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a safety feature", e);
        }
    }

    /** The JDK's own StAX parser, hardened: a DOCTYPE is reported as an event, which the reader refuses. */
    static XMLInputFactory streams() {
        XMLInputFactory f = XMLInputFactory.newDefaultFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, false);
        f.setProperty(XMLInputFactory.IS_VALIDATING, false);
        f.setProperty(XMLInputFactory.IS_COALESCING, true);
        f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setProperty(MAX_DEPTH_PROPERTY, MAX_DEPTH);
        return f;
    }

    /** Refuses more than {@link DomainXml#MAX_BYTES} of UTF-8 before any parser sees it. */
    static void checkSize(String xml, String source) {
        // UTF-8 length without encoding a huge string twice: chars are a lower bound, 3 bytes each an upper one
        if (xml.length() > DomainXml.MAX_BYTES || (xml.length() * 3L > DomainXml.MAX_BYTES
                && xml.getBytes(StandardCharsets.UTF_8).length > DomainXml.MAX_BYTES)) {
            throw DomainXml.tooLarge(source, xml.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    static OrchestratorException doctype(String source, int line) {
        return OrchestratorException.data(source + " line " + line + ": a DOCTYPE is not allowed in a domain XML (libvirt"
                + " never writes one, and it can smuggle in entities); remove it");
    }

    /** A parser's refusal as our message; {@code parserMessage} is the JDK's (one sentence, capitalised). */
    static OrchestratorException malformed(String source, int line, String parserMessage) {
        String msg = parserMessage == null ? "malformed XML" : parserMessage.strip();
        String where = source + (line > 0 ? " line " + line : "") + ": ";
        if (msg.contains("DOCTYPE")) {
            return doctype(source, line);
        }
        if (msg.contains("maxElementDepth")) {
            return OrchestratorException.data(where + "elements nested more than " + MAX_DEPTH
                    + " deep; a libvirt domain XML is a few levels deep, is this the right file?");
        }
        return OrchestratorException.data(where + "malformed XML: " + asClause(msg));
    }

    /** "The entity "x" was referenced, but not declared." as a clause: "the entity "x" was ..., but not declared". */
    private static String asClause(String sentence) {
        String s = sentence.endsWith(".") ? sentence.substring(0, sentence.length() - 1) : sentence;
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))) {
            s = s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
        }
        return s;
    }

    static OrchestratorException notADomain(String source, String root) {
        return OrchestratorException.data(source + ": not a libvirt domain XML: the root element is <" + root
                + ">, expected <domain>");
    }

    static OrchestratorException noName(String source) {
        return OrchestratorException.data(source + ": <domain> has no <name>");
    }

    /** The text of an element that must hold a whole number, such as {@code <vcpu>}. */
    static int wholeNumber(String source, String element, String text) {
        String t = text.strip();
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw OrchestratorException.data(source + ": <" + element + ">" + t + "</" + element + ">: not a whole number");
        }
    }
}
