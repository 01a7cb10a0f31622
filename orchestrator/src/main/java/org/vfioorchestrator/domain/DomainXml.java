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
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.ParserConfigurationException;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Reads everything {@code doctor}, {@code suggest} and {@code xml} look at in a libvirt domain XML, with
 * the JDK's DOM hardened by {@link SafeXml} (no DOCTYPE, nothing fetched, bounded depth and size). The
 * hook needs only a few facts and reads them with {@link DomainFacts}. Every failure is an
 * {@link OrchestratorException} naming the source.
 */
public final class DomainXml {
    /** Far above any real domain XML (a large one is tens of KiB). */
    public static final int MAX_BYTES = 4 * 1024 * 1024;

    private DomainXml() {
    }

    /** Reads a domain XML file the user named (not a host kernel file). */
    public static Domain read(Path file) {
        return parse(readText(file), file.toString());
    }

    /** A domain XML file's text, at most {@link #MAX_BYTES}, with the errors a user can act on. */
    private static String readText(Path file) {
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
                return new String(bytes, StandardCharsets.UTF_8);
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
        SafeXml.checkSize(xml, sourceName);
        Element root = parseDocument(xml, sourceName).getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw SafeXml.notADomain(sourceName, root.getTagName());
        }
        return new Reader(sourceName).domain(root);
    }

    private static Document parseDocument(String xml, String sourceName) {
        try {
            DocumentBuilder builder = SafeXml.documents().newDocumentBuilder();
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
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXParseException e) {
            throw SafeXml.malformed(sourceName, e.getLineNumber(), e.getMessage());
        } catch (SAXException e) {
            throw SafeXml.malformed(sourceName, 0, e.getMessage());
        } catch (IOException e) {
            throw OrchestratorException.data(sourceName + ": cannot read: " + e.getMessage());
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a safety feature", e);
        }
    }

    /** Element walking with errors that name the source and the element. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        Domain domain(Element root) {
            String type = root.getAttribute("type");
            String name = child(root, "name").map(e -> e.getTextContent().strip()).orElseThrow(() -> SafeXml.noName(source));
            Optional<Element> vcpu = child(root, "vcpu");
            int vcpus = vcpu.map(e -> SafeXml.wholeNumber(source, "vcpu", e.getTextContent())).orElse(1);
            List<String> pinProblems = new ArrayList<>();
            VcpuPlacement placement = vcpu.map(e -> vcpuPlacement(root, e, pinProblems)).orElse(VcpuPlacement.none());
            int iothreads = child(root, "iothreads").map(e -> SafeXml.wholeNumber(source, "iothreads", e.getTextContent()))
                    .orElse(0);

            List<Integer> iothreadIds = new ArrayList<>();
            List<IoThreadPoll> polls = new ArrayList<>();
            Optional<Element> ids = child(root, "iothreadids");
            if (ids.isPresent()) {
                for (Element t : children(ids.get(), "iothread")) {
                    int id = requiredIntAttr(t, "id", "<iothreadids><iothread> needs an id");
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

            Cputune cputune = child(root, "cputune").map(ct -> cputune(ct, pinProblems)).orElse(Cputune.none());

            List<Disk> disks = new ArrayList<>();
            List<Controller> controllers = new ArrayList<>();
            List<HostDev> hostdevs = new ArrayList<>();
            boolean agentChannel = false;
            Optional<Element> devices = child(root, "devices");
            if (devices.isPresent()) {
                for (Element d : children(devices.get(), "disk")) {
                    disks.add(disk(d));
                }
                for (Element c : children(devices.get(), "controller")) {
                    controllers.add(controller(c));
                }
                for (Element h : children(devices.get(), "hostdev")) {
                    hostdevs.add(hostdev(h));
                }
                for (Element c : children(devices.get(), "channel")) {
                    agentChannel |= child(c, "target").filter(t -> "virtio".equals(t.getAttribute("type"))
                            && Domain.GUEST_AGENT_CHANNEL.equals(t.getAttribute("name"))).isPresent();
                }
            }
            return new Domain(source, name, type, vcpus, placement, iothreads, iothreadIds, topology, cputune, disks,
                    controllers, hostdevs, polls, pinProblems, agentChannel);
        }

        /**
         * libvirt's rules: without a placement attribute, a cpuset means static, else the placement of
         * {@code <numatune><memory>}; under auto (numad) the cpuset is ignored.
         */
        private static VcpuPlacement vcpuPlacement(Element root, Element vcpu, List<String> problems) {
            String placement = vcpu.getAttribute("placement");
            if (placement.isEmpty()) {
                placement = vcpu.hasAttribute("cpuset") ? "static" : child(root, "numatune").flatMap(n -> child(n, "memory"))
                        .map(m -> m.getAttribute("placement")).filter(p -> p.equals("auto")).orElse("static");
            }
            if (placement.equals("auto") || !vcpu.hasAttribute("cpuset")) {
                return new VcpuPlacement(placement, Optional.empty());
            }
            return new VcpuPlacement(placement, pin(vcpu, "cpuset", problems));
        }

        /** The pins; one that cannot be read is a problem to report, and the rest are still read. */
        private Cputune cputune(Element ct, List<String> problems) {
            Map<Integer, CpuSet> vcpupin = new TreeMap<>();
            for (Element p : children(ct, "vcpupin")) {
                OptionalInt vcpu = pinIndex(p, "vcpu", problems);
                Optional<CpuSet> cpus = pin(p, "cpuset", problems);
                if (vcpu.isPresent() && cpus.isPresent()) {
                    vcpupin.put(vcpu.getAsInt(), cpus.get());
                }
            }
            Map<Integer, CpuSet> iothreadpin = new TreeMap<>();
            for (Element p : children(ct, "iothreadpin")) {
                OptionalInt iothread = pinIndex(p, "iothread", problems);
                Optional<CpuSet> cpus = pin(p, "cpuset", problems);
                if (iothread.isPresent() && cpus.isPresent()) {
                    iothreadpin.put(iothread.getAsInt(), cpus.get());
                }
            }
            Optional<CpuSet> emulatorpin = child(ct, "emulatorpin").flatMap(e -> pin(e, "cpuset", problems));
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
        private static CpuSet idList(String v) throws CpuSetFormatException {
            CpuSet in = CpuSet.empty();
            CpuSet out = CpuSet.empty();
            for (String token : v.strip().split(",")) {
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
            return in.difference(out);
        }

        private CpuSet idList(Element e, String attr) {
            try {
                return idList(e.getAttribute(attr));
            } catch (CpuSetFormatException ex) {
                throw bad("<" + e.getTagName() + " " + attr + "='" + e.getAttribute(attr).strip() + "'>: " + ex.getMessage());
            }
        }

        /** A CPU list of {@code <vcpu>} or {@code <cputune>}, or a problem naming the element as written. */
        private static Optional<CpuSet> pin(Element e, String attr, List<String> problems) {
            if (!e.hasAttribute(attr)) {
                problems.add(written(e) + ": no " + attr + " attribute");
                return Optional.empty();
            }
            try {
                return Optional.of(idList(e.getAttribute(attr)));
            } catch (CpuSetFormatException ex) {
                problems.add(written(e) + ": " + attr + " " + ex.getMessage());
                return Optional.empty();
            }
        }

        /** The vCPU or iothread a pin is for, or a problem naming the element as written. */
        private static OptionalInt pinIndex(Element e, String attr, List<String> problems) {
            try {
                return OptionalInt.of(Integer.parseInt(e.getAttribute(attr).strip()));
            } catch (NumberFormatException ex) {
                problems.add(written(e) + ": " + (e.hasAttribute(attr) ? attr + " is not a whole number" : "no " + attr
                        + " attribute"));
                return OptionalInt.empty();
            }
        }

        /** An element with its attributes (in the DOM's order), without children: {@code <vcpupin cpuset='2-' vcpu='3'/>}. */
        private static String written(Element e) {
            StringBuilder sb = new StringBuilder("<").append(e.getTagName());
            NamedNodeMap attributes = e.getAttributes();
            for (int i = 0; i < attributes.getLength(); i++) {
                Node a = attributes.item(i);
                sb.append(' ').append(a.getNodeName()).append("='").append(a.getNodeValue()).append('\'');
            }
            return sb.append("/>").toString();
        }

        private Controller controller(Element c) {
            Optional<Element> driver = child(c, "driver");
            return new Controller(c.getAttribute("type"), intAttr(c, "index").orElse(0), c.getAttribute("model"),
                    driver.map(d -> intAttr(d, "queues")).orElse(OptionalInt.empty()),
                    driver.map(d -> intAttr(d, "iothread")).orElse(OptionalInt.empty()));
        }

        private Disk disk(Element d) {
            String type = d.getAttribute("type");
            String device = d.getAttribute("device").isEmpty() ? "disk" : d.getAttribute("device");
            Optional<Element> target = child(d, "target");
            String dev = target.map(t -> t.getAttribute("dev")).orElse("?");
            String bus = target.map(t -> t.getAttribute("bus")).filter(b -> !b.isEmpty()).orElse(busFromName(dev));
            Optional<String> src = child(d, "source").flatMap(s -> List.of("file", "dev", "name", "volume").stream()
                    .filter(s::hasAttribute).findFirst().map(s::getAttribute));
            DiskDriver driver = child(d, "driver").map(this::driver).orElse(DiskDriver.none());
            int controller = child(d, "address").filter(a -> a.getAttribute("type").equals("drive"))
                    .map(a -> intAttr(a, "controller").orElse(0)).orElse(0);
            return new Disk(type, device, dev, bus, controller, src, driver);
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
            return "%04x:%02x:%02x.%x".formatted(domain, bus, slot, function);
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

        private Optional<String> attr(Element e, String name) {
            return e.hasAttribute(name) ? Optional.of(e.getAttribute(name)) : Optional.empty();
        }

        private int requiredIntAttr(Element e, String name, String whenMissing) {
            return intAttr(e, name).orElseThrow(() -> bad(whenMissing));
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

        /** The first child element with this name, as libvirt reads it (a second one is ignored). */
        private static Optional<Element> child(Element parent, String tag) {
            return children(parent, tag).stream().findFirst();
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
