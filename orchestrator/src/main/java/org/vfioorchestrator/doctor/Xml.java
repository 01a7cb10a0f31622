package org.vfioorchestrator.doctor;

import java.util.Optional;
import org.vfioorchestrator.domain.DiskDriver;

/** Renders the XML snippets findings quote as evidence and offer as fixes. */
final class Xml {
    private Xml() {
    }

    static String driver(DiskDriver d) {
        StringBuilder sb = new StringBuilder("<driver");
        attr(sb, "name", d.name());
        attr(sb, "type", d.type());
        attr(sb, "cache", d.cache());
        attr(sb, "io", d.io());
        if (d.iothreads().size() == 1) {
            sb.append(" iothread='").append(d.iothreads().get(0)).append('\'');
        }
        return sb.append("/>").toString();
    }

    private static void attr(StringBuilder sb, String name, Optional<String> v) {
        v.ifPresent(x -> sb.append(' ').append(name).append("='").append(x).append('\''));
    }
}
