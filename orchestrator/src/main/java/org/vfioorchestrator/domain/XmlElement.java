package org.vfioorchestrator.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An element of a parsed document: its name, its attributes, its child elements, and all the text
 * inside it (what the DOM calls its text content). Built by {@link XmlParser}.
 */
record XmlElement(String name, Map<String, String> attributes, List<XmlElement> children, String text) {

    XmlElement {
        attributes = Map.copyOf(attributes);
        children = List.copyOf(children);
    }

    boolean has(String attribute) {
        return attributes.containsKey(attribute);
    }

    /** The attribute's value; empty when it is missing, as the DOM's getAttribute. */
    String attribute(String attribute) {
        return attributes.getOrDefault(attribute, "");
    }

    /** The first child element with this name, or null (no Optional: the hook path takes no lambdas, see DEVELOPERS.md). */
    XmlElement child(String childName) {
        for (XmlElement c : children) {
            if (c.name.equals(childName)) {
                return c;
            }
        }
        return null;
    }

    List<XmlElement> children(String childName) {
        List<XmlElement> out = new ArrayList<>();
        for (XmlElement c : children) {
            if (c.name.equals(childName)) {
                out.add(c);
            }
        }
        return out;
    }
}
