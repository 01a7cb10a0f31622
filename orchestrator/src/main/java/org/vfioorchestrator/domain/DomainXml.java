package org.vfioorchestrator.domain;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Reads a libvirt domain XML safely: no DOCTYPE (so no entities, internal or
 * external, and no billion laughs), no external DTD or schema, no XInclude, and
 * at most {@link #MAX_BYTES}. libvirt never writes a DOCTYPE, so refusing one
 * costs nothing. Every failure is an {@link OrchestratorException} naming the source.
 */
public final class DomainXml {
    /** Far above any real domain XML (a large one is tens of KiB). */
    public static final int MAX_BYTES = 4 * 1024 * 1024;
    /** libvirt's domain XML is under ten elements deep; anything near this is not one. */
    static final int MAX_DEPTH = 100;
    private static final String MAX_DEPTH_PROPERTY = "http://www.oracle.com/xml/jaxp/properties/maxElementDepth";

    private DomainXml() {
    }

    /** Reads a domain XML file the user named (not a host kernel file). */
    public static Domain read(Path file) {
        String source = file.toString();
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw tooLarge(source, size);
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] bytes = in.readNBytes(MAX_BYTES + 1);
                if (bytes.length > MAX_BYTES) {
                    throw tooLarge(source, bytes.length);
                }
                return parse(new String(bytes, StandardCharsets.UTF_8), source);
            }
        } catch (NoSuchFileException e) {
            throw OrchestratorException.data(source + ": no such file; give the path of a domain XML ('virsh dumpxml VM > FILE')");
        } catch (IOException e) {
            throw OrchestratorException.data(source + ": cannot read: " + e.getMessage());
        }
    }

    /** The error for a domain XML of {@code size} bytes, more than {@link #MAX_BYTES}. */
    public static OrchestratorException tooLarge(String source, long size) {
        return OrchestratorException.data(source + ": " + size + " bytes is larger than the " + MAX_BYTES
                + " bytes a domain XML may have; is this the right file?");
    }

    public static Domain parse(String xml, String sourceName) {
        // UTF-8 length without encoding a huge string twice: chars are a lower bound, 3 bytes each an upper one
        if (xml.length() > MAX_BYTES || (xml.length() * 3L > MAX_BYTES
                && xml.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES)) {
            throw tooLarge(sourceName, xml.getBytes(StandardCharsets.UTF_8).length);
        }
        Document doc = parseDocument(xml, sourceName);
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw OrchestratorException.data(sourceName + ": not a libvirt domain XML: the root element is <"
                    + root.getTagName() + ">, expected <domain>");
        }
        return new Reader(sourceName).domain(root);
    }

    private static Document parseDocument(String xml, String sourceName) {
        try {
            DocumentBuilder builder = factory().newDocumentBuilder();
            builder.setErrorHandler(new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {
                    // warnings do not stop a well-formed document
                }

                @Override
                public void error(SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            builder.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entity " + systemId + " refused");
            });
            InputSource in = new InputSource(new StringReader(xml));
            return builder.parse(in);
        } catch (SAXParseException e) {
            String msg = e.getMessage() == null ? "malformed XML" : e.getMessage();
            if (msg.contains("DOCTYPE")) {
                throw OrchestratorException.data(sourceName + " line " + e.getLineNumber()
                        + ": a DOCTYPE is not allowed in a domain XML (libvirt never writes one, and it can smuggle"
                        + " in entities); remove it");
            }
            if (msg.contains("maxElementDepth")) {
                throw OrchestratorException.data(sourceName + " line " + e.getLineNumber() + ": elements nested more than "
                        + MAX_DEPTH + " deep; a libvirt domain XML is a few levels deep, is this the right file?");
            }
            throw OrchestratorException.data(sourceName + " line " + e.getLineNumber() + ": malformed XML: " + msg);
        } catch (SAXException e) {
            throw OrchestratorException.data(sourceName + ": malformed XML: " + e.getMessage());
        } catch (IOException e) {
            throw OrchestratorException.data(sourceName + ": cannot read: " + e.getMessage());
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a safety feature", e);
        }
    }

    static DocumentBuilderFactory factory() throws ParserConfigurationException {
        // the JDK's own parser, never one a jar on the class path registers (that lookup also scans the jar)
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
    }

    /** Element walking with errors that name the source and the element. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        Domain domain(Element root) {
            String type = root.getAttribute("type");
            String name = child(root, "name").map(this::text).orElseThrow(
                    () -> bad("<domain> has no <name>"));
            int vcpus = child(root, "vcpu").map(e -> intText(e, "vcpu")).orElse(1);
            int iothreads = child(root, "iothreads").map(e -> intText(e, "iothreads")).orElse(0);

            List<Integer> iothreadIds = new ArrayList<>();
            List<IoThreadPoll> polls = new ArrayList<>();
            Optional<Element> ids = child(root, "iothreadids");
            if (ids.isPresent()) {
                for (Element t : children(ids.get(), "iothread")) {
                    int id = intAttr(t, "id").orElseThrow(() -> bad("<iothreadids><iothread> needs an id"));
                    iothreadIds.add(id);
                    child(t, "poll").ifPresent(p -> polls.add(new IoThreadPoll(id, longAttr(p, "max"),
                            longAttr(p, "grow"), longAttr(p, "shrink"), longAttr(p, "weight"))));
                }
                iothreads = Math.max(iothreads, iothreadIds.size());
            } else {
                for (int i = 1; i <= iothreads; i++) {
                    iothreadIds.add(i);
                }
            }

            Optional<CpuTopology> topology = child(root, "cpu").flatMap(c -> child(c, "topology")).map(t ->
                    new CpuTopology(intAttr(t, "sockets").orElse(1), intAttr(t, "dies").orElse(1),
                            intAttr(t, "cores").orElse(1), intAttr(t, "threads").orElse(1)));

            Cputune cputune = child(root, "cputune").map(this::cputune).orElse(Cputune.none());

            List<Disk> disks = new ArrayList<>();
            List<HostDev> hostdevs = new ArrayList<>();
            Optional<Element> devices = child(root, "devices");
            if (devices.isPresent()) {
                for (Element d : children(devices.get(), "disk")) {
                    disks.add(disk(d));
                }
                for (Element h : children(devices.get(), "hostdev")) {
                    hostdevs.add(hostdev(h));
                }
            }
            return new Domain(source, name, type, vcpus, iothreads, iothreadIds, topology, cputune, disks, hostdevs,
                    polls);
        }

        private Cputune cputune(Element ct) {
            Map<Integer, CpuSet> vcpupin = new TreeMap<>();
            for (Element p : children(ct, "vcpupin")) {
                vcpupin.put(intAttr(p, "vcpu").orElseThrow(() -> bad("<vcpupin> needs a vcpu attribute")),
                        cpus(p, "cpuset"));
            }
            Map<Integer, CpuSet> iothreadpin = new TreeMap<>();
            for (Element p : children(ct, "iothreadpin")) {
                iothreadpin.put(intAttr(p, "iothread").orElseThrow(() -> bad("<iothreadpin> needs an iothread attribute")),
                        cpus(p, "cpuset"));
            }
            Optional<CpuSet> emulatorpin = child(ct, "emulatorpin").map(e -> cpus(e, "cpuset"));
            List<Sched> vcpusched = new ArrayList<>();
            for (Element s : children(ct, "vcpusched")) {
                vcpusched.add(sched(s, "vcpus"));
            }
            List<Sched> iothreadsched = new ArrayList<>();
            for (Element s : children(ct, "iothreadsched")) {
                iothreadsched.add(sched(s, "iothreads"));
            }
            return new Cputune(vcpupin, emulatorpin, iothreadpin, vcpusched, iothreadsched);
        }

        private Sched sched(Element s, String idsAttr) {
            String scheduler = s.getAttribute("scheduler");
            if (scheduler.isEmpty()) {
                throw bad("<" + s.getTagName() + "> needs a scheduler attribute");
            }
            return new Sched(idList(s, idsAttr), scheduler, intAttr(s, "priority"));
        }

        /** libvirt's id lists: {@code 0-3,^2}; the exclusions are removed. */
        private CpuSet idList(Element e, String attr) {
            String v = e.getAttribute(attr).strip();
            CpuSet in = CpuSet.empty();
            CpuSet out = CpuSet.empty();
            try {
                for (String token : v.split(",")) {
                    String t = token.strip();
                    if (t.isEmpty()) {
                        continue;
                    }
                    if (t.startsWith("^")) {
                        out = out.union(CpuSet.parseList(t.substring(1)));
                    } else {
                        in = in.union(CpuSet.parseList(t));
                    }
                }
            } catch (CpuSetFormatException ex) {
                throw bad("<" + e.getTagName() + " " + attr + "='" + v + "'>: " + ex.getMessage());
            }
            return in.difference(out);
        }

        private CpuSet cpus(Element e, String attr) {
            if (!e.hasAttribute(attr)) {
                throw bad("<" + e.getTagName() + "> needs a " + attr + " attribute");
            }
            return idList(e, attr);
        }

        private Disk disk(Element d) {
            String type = d.getAttribute("type");
            String device = d.getAttribute("device").isEmpty() ? "disk" : d.getAttribute("device");
            Optional<Element> target = child(d, "target");
            String dev = target.map(t -> t.getAttribute("dev")).orElse("?");
            String bus = target.map(t -> t.getAttribute("bus")).filter(b -> !b.isEmpty()).orElse(busFromName(dev));
            Optional<String> src = child(d, "source").map(s -> {
                for (String a : List.of("file", "dev", "name", "volume")) {
                    if (s.hasAttribute(a)) {
                        return s.getAttribute(a);
                    }
                }
                return null;
            });
            DiskDriver driver = child(d, "driver").map(this::driver).orElse(DiskDriver.none());
            return new Disk(type, device, dev, bus, src, driver);
        }

        /** libvirt guesses the bus from the name when the target has none. */
        private static String busFromName(String dev) {
            if (dev.startsWith("hd")) {
                return "ide";
            }
            if (dev.startsWith("sd")) {
                return "scsi";
            }
            if (dev.startsWith("vd")) {
                return "virtio";
            }
            if (dev.startsWith("fd")) {
                return "fdc";
            }
            return "?";
        }

        private DiskDriver driver(Element drv) {
            List<Integer> ioThreads = new ArrayList<>();
            intAttr(drv, "iothread").ifPresent(ioThreads::add);
            child(drv, "iothreads").ifPresent(its -> {
                for (Element it : children(its, "iothread")) {
                    intAttr(it, "id").ifPresent(ioThreads::add);
                }
            });
            return new DiskDriver(attr(drv, "name"), attr(drv, "type"), attr(drv, "cache"), attr(drv, "io"), ioThreads);
        }

        private HostDev hostdev(Element h) {
            String mode = h.getAttribute("mode");
            String type = h.getAttribute("type");
            boolean managed = h.getAttribute("managed").equals("yes");
            Optional<String> pci = Optional.empty();
            if (type.equals("pci")) {
                pci = child(h, "source").flatMap(s -> child(s, "address")).map(this::pciAddress);
            }
            return new HostDev(mode, type, managed, pci);
        }

        private String pciAddress(Element a) {
            long domain = hexAttr(a, "domain", 0);
            long bus = hexAttr(a, "bus", -1);
            long slot = hexAttr(a, "slot", -1);
            long function = hexAttr(a, "function", 0);
            if (bus < 0 || slot < 0) {
                throw bad("<hostdev><source><address> needs bus and slot");
            }
            return String.format(Locale.ROOT, "%04x:%02x:%02x.%x", domain, bus, slot, function);
        }

        private long hexAttr(Element e, String name, long dflt) {
            String v = e.getAttribute(name).strip();
            if (v.isEmpty()) {
                return dflt;
            }
            try {
                return v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
            } catch (NumberFormatException ex) {
                throw bad("<" + e.getTagName() + " " + name + "='" + v + "'>: not a number");
            }
        }

        private OrchestratorException bad(String what) {
            return OrchestratorException.data(source + ": " + what);
        }

        private String text(Element e) {
            return e.getTextContent().strip();
        }

        private int intText(Element e, String what) {
            String t = text(e);
            try {
                return Integer.parseInt(t);
            } catch (NumberFormatException ex) {
                throw bad("<" + what + ">" + t + "</" + what + ">: not a whole number");
            }
        }

        private Optional<String> attr(Element e, String name) {
            return e.hasAttribute(name) ? Optional.of(e.getAttribute(name)) : Optional.empty();
        }

        private OptionalInt intAttr(Element e, String name) {
            if (!e.hasAttribute(name)) {
                return OptionalInt.empty();
            }
            try {
                return OptionalInt.of(Integer.parseInt(e.getAttribute(name).strip()));
            } catch (NumberFormatException ex) {
                throw bad("<" + e.getTagName() + " " + name + "='" + e.getAttribute(name) + "'>: not a whole number");
            }
        }

        private OptionalLong longAttr(Element e, String name) {
            if (!e.hasAttribute(name)) {
                return OptionalLong.empty();
            }
            try {
                return OptionalLong.of(Long.parseLong(e.getAttribute(name).strip()));
            } catch (NumberFormatException ex) {
                throw bad("<" + e.getTagName() + " " + name + "='" + e.getAttribute(name) + "'>: not a whole number");
            }
        }

        private static Optional<Element> child(Element parent, String tag) {
            for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && e.getTagName().equals(tag)) {
                    return Optional.of(e);
                }
            }
            return Optional.empty();
        }

        private static List<Element> children(Element parent, String tag) {
            List<Element> out = new ArrayList<>();
            for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && e.getTagName().equals(tag)) {
                    out.add(e);
                }
            }
            return out;
        }
    }
}
