package org.vfioorchestrator.domain;

import java.io.IOException;
import java.io.InputStream;
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
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;

/**
 * Reads a libvirt domain XML safely, with {@link XmlParser}: no DOCTYPE (so no entities, internal
 * or external, and no billion laughs), nothing fetched from anywhere, elements at most
 * {@link #MAX_DEPTH} deep, and at most {@link #MAX_BYTES}. libvirt never writes a DOCTYPE, so
 * refusing one costs nothing. Every failure is an {@link OrchestratorException} naming the source.
 */
public final class DomainXml {
    /** Far above any real domain XML (a large one is tens of KiB). */
    public static final int MAX_BYTES = 4 * 1024 * 1024;
    /** libvirt's domain XML is under ten elements deep; anything near this is not one. */
    static final int MAX_DEPTH = 100;

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
        XmlElement root;
        try {
            root = XmlParser.parse(xml, MAX_DEPTH);
        } catch (XmlParser.Malformed e) {
            String where = sourceName + " line " + e.line + ": ";
            if (e.doctype) {
                throw OrchestratorException.data(where + "a DOCTYPE is not allowed in a domain XML (libvirt never writes"
                        + " one, and it can smuggle in entities); remove it");
            }
            if (e.tooDeep) {
                throw OrchestratorException.data(where + "elements nested more than " + MAX_DEPTH
                        + " deep; a libvirt domain XML is a few levels deep, is this the right file?");
            }
            throw OrchestratorException.data(where + "malformed XML: " + e.getMessage());
        }
        if (!root.name().equals("domain")) {
            throw OrchestratorException.data(sourceName + ": not a libvirt domain XML: the root element is <"
                    + root.name() + ">, expected <domain>");
        }
        return new Reader(sourceName).domain(root);
    }

    /** Element walking with errors that name the source and the element. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        Domain domain(XmlElement root) {
            String type = root.attribute("type");
            XmlElement nameElement = root.child("name");
            if (nameElement == null) {
                throw bad("<domain> has no <name>");
            }
            String name = text(nameElement);
            int vcpus = root.child("vcpu") == null ? 1 : intText(root.child("vcpu"), "vcpu");
            int iothreads = root.child("iothreads") == null ? 0 : intText(root.child("iothreads"), "iothreads");

            List<Integer> iothreadIds = new ArrayList<>();
            List<IoThreadPoll> polls = new ArrayList<>();
            XmlElement ids = root.child("iothreadids");
            if (ids != null) {
                for (XmlElement t : ids.children("iothread")) {
                    int id = requiredIntAttr(t, "id", "<iothreadids><iothread> needs an id");
                    iothreadIds.add(id);
                    XmlElement p = t.child("poll");
                    if (p != null) {
                        polls.add(new IoThreadPoll(id, longAttr(p, "max"), longAttr(p, "grow"), longAttr(p, "shrink"),
                                longAttr(p, "weight")));
                    }
                }
                iothreads = Math.max(iothreads, iothreadIds.size());
            } else {
                for (int i = 1; i <= iothreads; i++) {
                    iothreadIds.add(i);
                }
            }

            Optional<CpuTopology> topology = Optional.empty();
            XmlElement t = root.child("cpu") == null ? null : root.child("cpu").child("topology");
            if (t != null) {
                topology = Optional.of(new CpuTopology(intAttr(t, "sockets").orElse(1), intAttr(t, "dies").orElse(1),
                        intAttr(t, "cores").orElse(1), intAttr(t, "threads").orElse(1)));
            }

            Cputune cputune = root.child("cputune") == null ? Cputune.none() : cputune(root.child("cputune"));

            List<Disk> disks = new ArrayList<>();
            List<HostDev> hostdevs = new ArrayList<>();
            XmlElement devices = root.child("devices");
            if (devices != null) {
                for (XmlElement d : devices.children("disk")) {
                    disks.add(disk(d));
                }
                for (XmlElement h : devices.children("hostdev")) {
                    hostdevs.add(hostdev(h));
                }
            }
            return new Domain(source, name, type, vcpus, iothreads, iothreadIds, topology, cputune, disks, hostdevs,
                    polls);
        }

        private Cputune cputune(XmlElement ct) {
            Map<Integer, CpuSet> vcpupin = new TreeMap<>();
            for (XmlElement p : ct.children("vcpupin")) {
                vcpupin.put(requiredIntAttr(p, "vcpu", "<vcpupin> needs a vcpu attribute"), cpus(p, "cpuset"));
            }
            Map<Integer, CpuSet> iothreadpin = new TreeMap<>();
            for (XmlElement p : ct.children("iothreadpin")) {
                iothreadpin.put(requiredIntAttr(p, "iothread", "<iothreadpin> needs an iothread attribute"),
                        cpus(p, "cpuset"));
            }
            XmlElement e = ct.child("emulatorpin");
            Optional<CpuSet> emulatorpin = e == null ? Optional.empty() : Optional.of(cpus(e, "cpuset"));
            List<Sched> vcpusched = new ArrayList<>();
            for (XmlElement s : ct.children("vcpusched")) {
                vcpusched.add(sched(s, "vcpus"));
            }
            List<Sched> iothreadsched = new ArrayList<>();
            for (XmlElement s : ct.children("iothreadsched")) {
                iothreadsched.add(sched(s, "iothreads"));
            }
            return new Cputune(vcpupin, emulatorpin, iothreadpin, vcpusched, iothreadsched);
        }

        private Sched sched(XmlElement s, String idsAttr) {
            String scheduler = s.attribute("scheduler");
            if (scheduler.isEmpty()) {
                throw bad("<" + s.name() + "> needs a scheduler attribute");
            }
            return new Sched(idList(s, idsAttr), scheduler, intAttr(s, "priority"));
        }

        /** libvirt's id lists: {@code 0-3,^2}; the exclusions are removed. */
        private CpuSet idList(XmlElement e, String attr) {
            String v = e.attribute(attr).strip();
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
                throw bad("<" + e.name() + " " + attr + "='" + v + "'>: " + ex.getMessage());
            }
            return in.difference(out);
        }

        private CpuSet cpus(XmlElement e, String attr) {
            if (!e.has(attr)) {
                throw bad("<" + e.name() + "> needs a " + attr + " attribute");
            }
            return idList(e, attr);
        }

        private Disk disk(XmlElement d) {
            String type = d.attribute("type");
            String device = d.attribute("device").isEmpty() ? "disk" : d.attribute("device");
            XmlElement target = d.child("target");
            String dev = target == null ? "?" : target.attribute("dev");
            String bus = target == null || target.attribute("bus").isEmpty() ? busFromName(dev) : target.attribute("bus");
            Optional<String> src = Optional.empty();
            XmlElement s = d.child("source");
            if (s != null) {
                for (String a : List.of("file", "dev", "name", "volume")) {
                    if (s.has(a)) {
                        src = Optional.of(s.attribute(a));
                        break;
                    }
                }
            }
            DiskDriver driver = d.child("driver") == null ? DiskDriver.none() : driver(d.child("driver"));
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

        private DiskDriver driver(XmlElement drv) {
            List<Integer> ioThreads = new ArrayList<>();
            OptionalInt single = intAttr(drv, "iothread");
            if (single.isPresent()) {
                ioThreads.add(single.getAsInt());
            }
            XmlElement its = drv.child("iothreads");
            for (XmlElement it : its == null ? List.<XmlElement>of() : its.children("iothread")) {
                OptionalInt id = intAttr(it, "id");
                if (id.isPresent()) {
                    ioThreads.add(id.getAsInt());
                }
            }
            return new DiskDriver(attr(drv, "name"), attr(drv, "type"), attr(drv, "cache"), attr(drv, "io"), ioThreads);
        }

        private HostDev hostdev(XmlElement h) {
            String mode = h.attribute("mode");
            String type = h.attribute("type");
            boolean managed = h.attribute("managed").equals("yes");
            Optional<String> pci = Optional.empty();
            if (type.equals("pci")) {
                XmlElement address = h.child("source") == null ? null : h.child("source").child("address");
                pci = address == null ? Optional.empty() : Optional.of(pciAddress(address));
            }
            return new HostDev(mode, type, managed, pci);
        }

        private String pciAddress(XmlElement a) {
            long domain = hexAttr(a, "domain", 0);
            long bus = hexAttr(a, "bus", -1);
            long slot = hexAttr(a, "slot", -1);
            long function = hexAttr(a, "function", 0);
            if (bus < 0 || slot < 0) {
                throw bad("<hostdev><source><address> needs bus and slot");
            }
            return hex(domain, 4) + ":" + hex(bus, 2) + ":" + hex(slot, 2) + "." + Long.toHexString(function);
        }

        /** Zero-padded lower-case hex, as lspci prints addresses (String.format's Formatter is slow to load). */
        private static String hex(long v, int width) {
            String h = Long.toHexString(v);
            return h.length() >= width ? h : "0".repeat(width - h.length()) + h;
        }

        private long hexAttr(XmlElement e, String name, long dflt) {
            String v = e.attribute(name).strip();
            if (v.isEmpty()) {
                return dflt;
            }
            try {
                return v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
            } catch (NumberFormatException ex) {
                throw bad("<" + e.name() + " " + name + "='" + v + "'>: not a number");
            }
        }

        private OrchestratorException bad(String what) {
            return OrchestratorException.data(source + ": " + what);
        }

        private String text(XmlElement e) {
            return e.text().strip();
        }

        private int intText(XmlElement e, String what) {
            String t = text(e);
            try {
                return Integer.parseInt(t);
            } catch (NumberFormatException ex) {
                throw bad("<" + what + ">" + t + "</" + what + ">: not a whole number");
            }
        }

        private Optional<String> attr(XmlElement e, String name) {
            return e.has(name) ? Optional.of(e.attribute(name)) : Optional.empty();
        }

        private int requiredIntAttr(XmlElement e, String name, String whenMissing) {
            OptionalInt v = intAttr(e, name);
            if (v.isEmpty()) {
                throw bad(whenMissing);
            }
            return v.getAsInt();
        }

        private OptionalInt intAttr(XmlElement e, String name) {
            if (!e.has(name)) {
                return OptionalInt.empty();
            }
            try {
                return OptionalInt.of(Integer.parseInt(e.attribute(name).strip()));
            } catch (NumberFormatException ex) {
                throw bad("<" + e.name() + " " + name + "='" + e.attribute(name) + "'>: not a whole number");
            }
        }

        private OptionalLong longAttr(XmlElement e, String name) {
            if (!e.has(name)) {
                return OptionalLong.empty();
            }
            try {
                return OptionalLong.of(Long.parseLong(e.attribute(name).strip()));
            } catch (NumberFormatException ex) {
                throw bad("<" + e.name() + " " + name + "='" + e.attribute(name) + "'>: not a whole number");
            }
        }
    }
}
