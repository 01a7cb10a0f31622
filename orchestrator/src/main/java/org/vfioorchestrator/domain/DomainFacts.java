package org.vfioorchestrator.domain;

import java.io.StringReader;
import javax.xml.stream.Location;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * What a hook call checks a profile against: the domain's name and its {@code <vcpu>} count (1 when
 * absent), read with the JDK's StAX parser in one pass, hardened like {@link DomainXml} ({@link SafeXml})
 * and refusing the same documents with the same messages. The whole document is read, so malformed XML
 * is refused here too.
 */
public record DomainFacts(String sourceName, String name, int vcpus) {

    public static DomainFacts parse(String xml, String sourceName) {
        SafeXml.checkSize(xml, sourceName);
        XMLStreamReader r = null;
        try {
            r = SafeXml.streams().createXMLStreamReader(new StringReader(xml));
            String root = null;
            String name = null;
            String vcpu = null;
            StringBuilder text = null; // the text of the <name> or <vcpu> being read
            String reading = null;
            int depth = 0;
            while (r.hasNext()) {
                switch (r.next()) {
                    case XMLStreamConstants.DTD -> throw SafeXml.doctype(sourceName, r.getLocation().getLineNumber());
                    case XMLStreamConstants.START_ELEMENT -> {
                        depth++;
                        String element = r.getLocalName();
                        if (depth == 1) {
                            root = element; // judged once the whole document is well-formed, as the DOM reader does
                        }
                        // the first <name> and <vcpu> of <domain>, as the DOM reader takes them
                        if (depth == 2 && "domain".equals(root) && ((element.equals("name") && name == null) || (element.equals("vcpu") && vcpu == null))) {
                            reading = element;
                            text = new StringBuilder();
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> {
                        if (text != null) {
                            text.append(r.getText());
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        if (depth == 2 && text != null) {
                            if (reading.equals("name")) {
                                name = text.toString().strip();
                            } else {
                                vcpu = text.toString();
                            }
                            text = null;
                        }
                        depth--;
                    }
                    default -> {
                        // comments, processing instructions: nothing a hook needs
                    }
                }
            }
            if (!"domain".equals(root)) {
                throw SafeXml.notADomain(sourceName, root);
            }
            if (name == null) {
                throw SafeXml.noName(sourceName);
            }
            return new DomainFacts(sourceName, name, vcpu == null ? 1 : SafeXml.wholeNumber(sourceName, "vcpu", vcpu));
        } catch (XMLStreamException e) {
            Location at = e.getLocation();
            // the JDK's message is "ParseError at [row,col]:[1,26]\nMessage: <the sentence>"
            String message = e.getMessage();
            int sentence = message == null ? -1 : message.indexOf("Message: ");
            throw SafeXml.malformed(sourceName, at == null ? 0 : at.getLineNumber(),
                    sentence < 0 ? message : message.substring(sentence + "Message: ".length()));
        } finally {
            close(r);
        }
    }

    private static void close(XMLStreamReader r) {
        if (r != null) {
            try {
                r.close();
            } catch (XMLStreamException e) {
                // a reader over a string holds nothing to release
            }
        }
    }
}
