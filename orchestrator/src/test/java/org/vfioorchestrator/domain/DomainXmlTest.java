package org.vfioorchestrator.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;

class DomainXmlTest {
    static final String FULL = """
            <domain type='kvm' id='3'>
              <name>win11</name>
              <vcpu placement='static'>8</vcpu>
              <iothreads>2</iothreads>
              <iothreadids>
                <iothread id='1'><poll max='4096' grow='2' shrink='2'/></iothread>
                <iothread id='2'/>
              </iothreadids>
              <cputune>
                <vcpupin vcpu='0' cpuset='2'/>
                <vcpupin vcpu='1' cpuset='8'/>
                <emulatorpin cpuset='0-1,6-7'/>
                <iothreadpin iothread='1' cpuset='0,6'/>
                <vcpusched vcpus='0-3,^2' scheduler='fifo' priority='1'/>
                <iothreadsched iothreads='1' scheduler='batch'/>
              </cputune>
              <cpu mode='host-passthrough' check='none'>
                <topology sockets='1' dies='1' cores='4' threads='2'/>
              </cpu>
              <devices>
                <disk type='block' device='disk'>
                  <driver name='qemu' type='raw' cache='none' io='native' iothread='1'/>
                  <source dev='/dev/nvme0n1'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2' queues='2'>
                    <iothreads><iothread id='1'><queue id='0'/></iothread><iothread id='2'><queue id='1'/></iothread></iothreads>
                  </driver>
                  <source file='/var/lib/libvirt/images/data.qcow2'/>
                  <target dev='vdb' bus='virtio'/>
                </disk>
                <disk type='file' device='cdrom'>
                  <target dev='sda' bus='sata'/>
                </disk>
                <disk type='file' device='disk'>
                  <source file='/old.img'/>
                  <target dev='hda'/>
                </disk>
                <hostdev mode='subsystem' type='pci' managed='yes'>
                  <source><address domain='0x0000' bus='0x0b' slot='0x00' function='0x1'/></source>
                </hostdev>
                <hostdev mode='subsystem' type='usb' managed='no'>
                  <source><vendor id='0x046d'/><product id='0xc52b'/></source>
                </hostdev>
              </devices>
            </domain>
            """;

    @Test
    void readsEverythingTheChecksUse() {
        Domain d = DomainXml.parse(FULL, "win11.xml");
        assertEquals("win11", d.name());
        assertEquals("kvm", d.type());
        assertEquals(8, d.vcpus());
        assertEquals(2, d.iothreads());
        assertEquals(List.of(1, 2), d.iothreadIds());
        assertEquals(new CpuTopology(1, 1, 4, 2), d.cpuTopology().orElseThrow());

        Cputune ct = d.cputune();
        assertEquals(Map.of(0, CpuSet.of(2), 1, CpuSet.of(8)), ct.vcpupin());
        assertEquals(CpuSet.parseList("0-1,6-7"), ct.emulatorpin().orElseThrow());
        assertEquals(Map.of(1, CpuSet.of(0, 6)), ct.iothreadpin());
        assertEquals(CpuSet.of(0, 1, 3), ct.vcpusched().get(0).ids());
        assertTrue(ct.vcpusched().get(0).realTime());
        assertEquals(1, ct.vcpusched().get(0).priority().getAsInt());
        assertEquals("batch", ct.iothreadsched().get(0).scheduler());
        assertFalse(ct.iothreadsched().get(0).realTime());

        Disk nvme = d.disks().get(0);
        assertEquals("block", nvme.type());
        assertEquals("vda", nvme.targetDev());
        assertEquals("virtio", nvme.bus());
        assertEquals("/dev/nvme0n1", nvme.sourcePath().orElseThrow());
        assertEquals("none", nvme.driver().effectiveCache());
        assertEquals("native", nvme.driver().effectiveIo());
        assertEquals(List.of(1), nvme.driver().iothreads());

        Disk data = d.disks().get(1);
        assertEquals(List.of(1, 2), data.driver().iothreads());
        assertEquals("writeback", data.driver().effectiveCache());
        assertEquals("threads", data.driver().effectiveIo());
        assertTrue(d.disks().get(2).isCdrom());
        assertEquals("ide", d.disks().get(3).bus(), "a target without bus: libvirt derives it from the name");
        assertTrue(d.disks().get(3).driver().cache().isEmpty());

        assertEquals(List.of("0000:0b:00.1"), d.pciHostdevs());
        assertEquals(2, d.hostdevs().size());
        assertTrue(d.hostdevs().get(0).managed());

        IoThreadPoll poll = d.pollOf(1).orElseThrow();
        assertEquals(4096, poll.maxNs().getAsLong());
        assertEquals(2, poll.grow().getAsLong());
        assertTrue(d.pollOf(2).isEmpty());
    }

    @Test
    void defaultsWhenElementsAreAbsent() {
        Domain d = DomainXml.parse("<domain type='qemu'><name>tiny</name></domain>", "tiny.xml");
        assertEquals(1, d.vcpus());
        assertEquals(0, d.iothreads());
        assertTrue(d.iothreadIds().isEmpty());
        assertTrue(d.cpuTopology().isEmpty());
        assertTrue(d.cputune().vcpupin().isEmpty());
        assertTrue(d.disks().isEmpty());
        assertEquals("qemu", d.type());
    }

    @Test
    void iothreadsWithoutIdsAreNumberedFromOne() {
        Domain d = DomainXml.parse("<domain type='kvm'><name>a</name><iothreads>3</iothreads></domain>", "a.xml");
        assertEquals(List.of(1, 2, 3), d.iothreadIds());
    }

    @Test
    void refusesDoctypeAndEntities() {
        String xxe = """
                <?xml version="1.0"?>
                <!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>
                <domain type='kvm'><name>&x;</name></domain>
                """;
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> DomainXml.parse(xxe, "evil.xml"));
        assertTrue(e.getMessage().startsWith("evil.xml line 2: a DOCTYPE is not allowed"), e.getMessage());
        assertEquals(ExitCode.HOST_OR_DATA, e.exitCode());

        String laughs = "<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]><domain><name>&b;</name></domain>";
        assertThrows(OrchestratorException.class, () -> DomainXml.parse(laughs, "laughs.xml"));
    }

    @Test
    void refusesXInclude() {
        String xi = "<domain xmlns:xi='http://www.w3.org/2001/XInclude' type='kvm'><name>x</name>"
                + "<xi:include href='file:///etc/passwd' parse='text'/></domain>";
        Domain d = DomainXml.parse(xi, "xi.xml");
        assertEquals("x", d.name(), "the include is left as an unknown element, never followed");
    }

    @Test
    void malformedNamesSourceAndLine() {
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> DomainXml.parse("<domain>\n<name>x</name>\n<vcpu>2</vcpus>\n</domain>", "bad.xml"));
        assertTrue(e.getMessage().startsWith("bad.xml line 3: malformed XML"), e.getMessage());
    }

    @Test
    void wrongRootAndBadNumbers() {
        assertTrue(assertThrows(OrchestratorException.class, () -> DomainXml.parse("<network/>", "n.xml"))
                .getMessage().contains("root element is <network>"));
        assertTrue(assertThrows(OrchestratorException.class,
                () -> DomainXml.parse("<domain><name>a</name><vcpu>eight</vcpu></domain>", "v.xml"))
                .getMessage().contains("<vcpu>eight</vcpu>: not a whole number"));
    }

    /** Issue 18 item 11: libvirt's CPU ids go to 16383, and a pin that cannot be read is reported, not the end. */
    @Test
    void pinsUpTo16383AndPinsThatCannotBeRead() {
        Domain d = DomainXml.parse("<domain><name>a</name><vcpu placement='static' cpuset='0-3,^2'>3</vcpu><cputune>"
                + "<vcpupin vcpu='0' cpuset='0,16383'/><vcpupin vcpu='1' cpuset='1-x'/><vcpupin vcpu='two' cpuset='1'/>"
                + "<vcpupin vcpu='2' cpuset='3'/><emulatorpin/></cputune></domain>", "p.xml");
        assertEquals(Map.of(0, CpuSet.of(0, 16383), 2, CpuSet.of(3)), d.cputune().vcpupin());
        assertEquals(List.of("<vcpupin cpuset='1-x' vcpu='1'/>: cpuset '1-x': not a CPU number or range",
                "<vcpupin cpuset='1' vcpu='two'/>: vcpu is not a whole number", "<emulatorpin/>: no cpuset attribute"),
                d.pinProblems());
        assertEquals(new VcpuPlacement("static", Optional.of(CpuSet.of(0, 1, 3))), d.vcpuPlacement());
        assertEquals(Optional.of(CpuSet.of(0, 1, 3)), d.vcpuCpus(1), "a vCPU without a pin runs on <vcpu cpuset>");
        assertEquals("auto", DomainXml.parse("<domain><name>a</name><vcpu placement='auto'>2</vcpu></domain>", "a.xml")
                .vcpuPlacement().placement());
    }

    /** libvirt's placement rules: numad's choice replaces the cpuset, and numatune's placement is the default. */
    @Test
    void vcpuPlacementAutoIgnoresTheCpusetAndFollowsNumatune() {
        assertEquals(new VcpuPlacement("auto", Optional.empty()), DomainXml.parse("<domain><name>a</name>"
                + "<vcpu placement='auto' cpuset='0-3'>2</vcpu></domain>", "a.xml").vcpuPlacement());
        assertEquals(new VcpuPlacement("auto", Optional.empty()), DomainXml.parse("<domain><name>a</name><vcpu>2</vcpu>"
                + "<numatune><memory mode='strict' placement='auto'/></numatune></domain>", "a.xml").vcpuPlacement());
        assertEquals(new VcpuPlacement("static", Optional.of(CpuSet.of(2, 3))), DomainXml.parse("<domain><name>a</name>"
                + "<vcpu cpuset='2-3'>2</vcpu><numatune><memory placement='auto'/></numatune></domain>", "a.xml")
                .vcpuPlacement(), "a cpuset makes it static");
    }

    @Test
    void controllersAndTheControllerOfADisk() {
        Domain d = DomainXml.parse("<domain><name>a</name><devices>"
                + "<controller type='scsi' index='0' model='lsilogic'/>"
                + "<controller type='scsi' index='1' model='virtio-scsi'><driver queues='4' iothread='2'/></controller>"
                + "<disk type='file' device='disk'><target dev='sda' bus='scsi'/><address type='drive' controller='1'"
                + " bus='0' target='0' unit='0'/></disk>"
                + "<disk type='file' device='disk'><target dev='sdb' bus='scsi'/></disk></devices></domain>", "c.xml");
        assertEquals(List.of(new Controller("scsi", 0, "lsilogic", OptionalInt.empty(), OptionalInt.empty()),
                new Controller("scsi", 1, "virtio-scsi", OptionalInt.of(4), OptionalInt.of(2))), d.controllers());
        assertEquals(1, d.disks().get(0).controller());
        assertEquals(Optional.of(d.controllers().get(1)), d.controllerOf(d.disks().get(0)));
        assertEquals(Optional.of(d.controllers().get(0)), d.controllerOf(d.disks().get(1)), "no address: controller 0");
    }

    @Test
    void refusesHugeInput(@TempDir Path dir) throws Exception {
        String huge = "<domain><name>a</name><description>" + "x".repeat(DomainXml.MAX_BYTES) + "</description></domain>";
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> DomainXml.parse(huge, "huge.xml"));
        assertTrue(e.getMessage().contains("larger than the 4194304 bytes"), e.getMessage());

        Path file = dir.resolve("huge.xml");
        Files.writeString(file, huge);
        assertThrows(OrchestratorException.class, () -> DomainXml.read(file));
        assertTrue(assertThrows(OrchestratorException.class, () -> DomainXml.read(dir.resolve("none.xml")))
                .getMessage().contains("no such file"));
    }
}
