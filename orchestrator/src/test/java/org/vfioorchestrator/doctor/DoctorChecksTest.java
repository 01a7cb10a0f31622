package org.vfioorchestrator.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.topology.TopologyReader;

/** One check at a time, on small trees built through TestHost. */
class DoctorChecksTest {
    @TempDir
    Path root;

    /** 8 vCPUs on cores 2-5 (SMT pairs), emulator and iothread on core 0-1, disk tuned. */
    static final String PINNED = """
            <domain type='kvm'><name>vm</name><vcpu>8</vcpu>
              <iothreads>1</iothreads>
              <iothreadids><iothread id='1'><poll max='8192'/></iothread></iothreadids>
              <cputune>
                <vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='10'/>
                <vcpupin vcpu='2' cpuset='3'/><vcpupin vcpu='3' cpuset='11'/>
                <vcpupin vcpu='4' cpuset='4'/><vcpupin vcpu='5' cpuset='12'/>
                <vcpupin vcpu='6' cpuset='5'/><vcpupin vcpu='7' cpuset='13'/>
                <emulatorpin cpuset='0-1,8-9'/><iothreadpin iothread='1' cpuset='0-1,8-9'/>
                %s
              </cputune>
              <cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='4' threads='2'/></cpu>
              <devices>
                <disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native' iothread='1'/>
                  <source dev='/dev/sdb'/><target dev='vda' bus='virtio'/></disk>
                %s
              </devices>
            </domain>
            """;

    static Domain pinned(String cputuneExtra, String devicesExtra) {
        return DomainXml.parse(PINNED.formatted(cputuneExtra, devicesExtra), "vm.xml");
    }

    List<String> ids(TestHost host, Domain d, Optional<ProfileView> profile) {
        var fs = host.fs();
        return Doctor.examine(new DoctorInput(d, profile, fs, Optional.of(TopologyReader.read(fs)))).stream()
                .map(f -> f.severity().label() + " " + f.id()).toList();
    }

    List<Finding> findings(TestHost host, Domain d) {
        var fs = host.fs();
        return Doctor.examine(new DoctorInput(d, Optional.empty(), fs, Optional.of(TopologyReader.read(fs))));
    }

    @Test
    void cleanBaseline() {
        assertEquals(List.of(), ids(TestHost.smt(root, 8), pinned("", ""), Optional.empty()));
    }

    @Test
    void irqbalanceWithoutBannedCpus() {
        TestHost h = TestHost.smt(root, 8).file("/proc/812/comm", "irqbalance")
                .file("/etc/default/irqbalance", "#IRQBALANCE_ONESHOT=\nIRQBALANCE_BANNED_CPULIST=2-3\n");
        List<Finding> f = findings(h, pinned("", ""));
        assertEquals(List.of("host.irqbalance-unbanned"), f.stream().map(Finding::id).toList());
        assertTrue(f.get(0).fix().startsWith("IRQBALANCE_BANNED_CPULIST=2-5,10-13 in /etc/default/irqbalance"),
                f.get(0).fix());

        h.file("/etc/default/irqbalance", "IRQBALANCE_BANNED_CPULIST=\"2-5,10-13\"\n");
        assertEquals(List.of(), ids(h, pinned("", ""), Optional.empty()));
        h.delete("/etc/default/irqbalance").file("/etc/sysconfig/irqbalance", "IRQBALANCE_BANNED_CPUS=00003c3c\n");
        assertEquals(List.of(), ids(h, pinned("", ""), Optional.empty()), "the old hex mask form counts too");
    }

    @Test
    void kernelCommandLine() {
        TestHost h = TestHost.smt(root, 8).file("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet");
        List<Finding> f = findings(h, pinned("", ""));
        assertEquals(List.of("host.cmdline-missing"), f.stream().map(Finding::id).toList());
        assertTrue(f.get(0).fix().startsWith("add: nohz_full=2-5,10-13 rcu_nocbs=2-5,10-13 irqaffinity=0-1,6-9,14-15"),
                f.get(0).fix());

        h.file("/proc/cmdline", "quiet isolcpus=managed_irq,domain,0-5 nohz_full=2-5,10-13 rcu_nocbs=2-5,10-13"
                + " irqaffinity=0-1,8-9");
        f = findings(h, pinned("", ""));
        assertEquals(List.of("warning host.cmdline-mismatch"),
                f.stream().map(x -> x.severity().label() + " " + x.id()).toList());
        assertTrue(f.get(0).evidence().contains("isolcpus=0-5 takes host CPUs 0-1"), f.get(0).evidence());
        assertTrue(f.get(0).evidence().contains("misses VM CPUs 10-13"), f.get(0).evidence());

        h.file("/proc/cmdline", "quiet nohz_full=2-5,10-13 rcu_nocbs=2-5,10-13 irqaffinity=0-1,6-9,14-15");
        assertEquals(List.of(), ids(h, pinned("", ""), Optional.empty()));
    }

    /**
     * Managed IRQs on the VM's CPUs: what the guest benchmark found on the development machine
     * (a virtio disk queue served on the VM's CPU, 5,600 times a second under --io load).
     */
    @Test
    void managedIrqsOnTheVmCpus() {
        TestHost h = TestHost.smt(root, 8).file("/proc/cmdline", "quiet nohz_full=2-5,10-13 rcu_nocbs=2-5,10-13"
                + " irqaffinity=0-1,6-9,14-15");
        for (int irq = 40; irq <= 43; irq++) {
            String cpus = irq == 40 ? "0" : irq == 41 ? "3" : irq == 42 ? "11" : "2";
            h.file("/proc/irq/" + irq + "/smp_affinity_list", cpus).file("/proc/irq/" + irq + "/effective_affinity_list", cpus)
                    .file("/proc/irq/" + irq + "/nvme0q" + (irq - 39) + "/.keep", "")
                    .file("/sys/kernel/debug/irq/irqs/" + irq, "handler:  handle_edge_irq\n"
                            + (irq == 43 ? "dstate:   0x00401200\n" : "dstate:   0x3740a200\n            IRQD_AFFINITY_MANAGED\n"));
        }
        List<Finding> f = findings(h, pinned("", ""));
        assertEquals(List.of("warning host.managed-irqs-on-vm-cpus"),
                f.stream().map(x -> x.severity().label() + " " + x.id()).toList());
        // IRQ 40 serves a host CPU; IRQ 43 is not managed (the hook moves it)
        assertEquals("/sys/kernel/debug/irq/irqs: 2 managed IRQs served on the VM's CPUs: IRQ 41 (nvme0q2) on CPU 3;"
                + " IRQ 42 (nvme0q3) on CPU 11", f.get(0).evidence());
        assertTrue(f.get(0).fix().startsWith("add isolcpus=managed_irq,2-5,10-13 to GRUB_CMDLINE_LINUX_DEFAULT"),
                f.get(0).fix());

        h.file("/proc/cmdline", "quiet isolcpus=managed_irq,2-5,10-13 nohz_full=2-5,10-13 rcu_nocbs=2-5,10-13"
                + " irqaffinity=0-1,6-9,14-15");
        assertEquals(List.of("info host.managed-irqs-on-vm-cpus"), ids(h, pinned("", ""), Optional.empty()),
                "asked for already: the device has no queue elsewhere");

        for (int irq = 40; irq <= 43; irq++) {
            h.delete("/sys/kernel/debug/irq/irqs/" + irq);
        }
        assertEquals(List.of(), ids(h, pinned("", ""), Optional.empty()), "without debugfs nothing is claimed");
    }

    @Test
    void powerAndCgroups() {
        TestHost h = TestHost.smt(root, 8).delete("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
                .delete("/sys/devices/system/cpu/cpu0/cpuidle/state0/name")
                .file("/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids");
        try {
            java.nio.file.Files.delete(root.resolve("sys/devices/system/cpu/cpu0/cpufreq"));
            java.nio.file.Files.delete(root.resolve("sys/devices/system/cpu/cpu0/cpuidle/state0"));
            java.nio.file.Files.delete(root.resolve("sys/devices/system/cpu/cpu0/cpuidle"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertEquals(List.of("warning host.cgroup-no-cpuset", "info host.no-cpufreq", "info host.no-cpuidle"),
                ids(h, pinned("", ""), Optional.empty()));
    }

    @Test
    void realTimeVcpus() {
        TestHost h = TestHost.smt(root, 8);
        Domain rt = pinned("<vcpusched vcpus='0-7' scheduler='fifo' priority='1'/>", "");
        assertEquals(List.of("info sched.rt-vcpus"), ids(h, rt, Optional.empty()));
        h.file("/proc/sys/kernel/sched_rt_runtime_us", "-1");
        assertEquals(List.of("error sched.rt-unthrottled"), ids(h, rt, Optional.empty()));
    }

    @Test
    void iothreadPlacementAndPolling() {
        TestHost h = TestHost.smt(root, 8);
        Domain onVm = DomainXml.parse(PINNED.formatted("", "").replace("<iothreadpin iothread='1' cpuset='0-1,8-9'/>",
                "<iothreadpin iothread='1' cpuset='2'/>"), "vm.xml");
        assertEquals(List.of("warning iothreads.on-vm-cpus"), ids(h, onVm, Optional.empty()));

        Domain unpinned = DomainXml.parse(PINNED.formatted("", "").replace("<iothreadpin iothread='1' cpuset='0-1,8-9'/>",
                ""), "vm.xml");
        assertEquals(List.of("warning iothreads.unpinned"), ids(h, unpinned, Optional.empty()));

        Domain defaultPoll = DomainXml.parse(PINNED.formatted("", "").replace("<poll max='8192'/>", ""), "vm.xml");
        assertEquals(List.of("info iothreads.polling-default-shared"), ids(h, defaultPoll, Optional.empty()));

        // a host that keeps one SMT core has no CPU to spare for busy-polling
        ProfileView tight = new ProfileView(CpuSet.of(0, 8), List.of(2, 10, 3, 11, 4, 12, 5, 13),
                CpuSet.parseList("2-5,10-13"), CpuSet.of(0, 8), CpuSet.of(0, 8));
        Domain tightXml = DomainXml.parse(PINNED.formatted("", "").replace("<poll max='8192'/>", "")
                .replace("0-1,8-9", "0,8"), "vm.xml");
        assertEquals(List.of("warning iothreads.polling-constrained"), ids(h, tightXml, Optional.of(tight)));

        Domain unassigned = pinned("", "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none'"
                + " io='native'/><source dev='/dev/sdc'/><target dev='vdb' bus='virtio'/></disk>");
        assertEquals(List.of("warning iothreads.disk-unassigned"), ids(h, unassigned, Optional.empty()));
    }

    @Test
    void profileAgreement() {
        TestHost h = TestHost.smt(root, 8);
        ProfileView same = new ProfileView(CpuSet.parseList("0-1,6-9,14-15"), List.of(2, 10, 3, 11, 4, 12, 5, 13),
                CpuSet.parseList("2-5,10-13"), CpuSet.parseList("0-1,8-9"), CpuSet.parseList("0-1,8-9"));
        assertEquals(List.of(), ids(h, pinned("", ""), Optional.of(same)));

        ProfileView other = new ProfileView(CpuSet.parseList("0-1,8-15"), List.of(2, 3, 4, 5, 6, 7),
                CpuSet.parseList("2-7"), CpuSet.of(0, 1), CpuSet.parseList("0-1,8-9"));
        List<String> got = ids(h, pinned("", ""), Optional.of(other));
        assertTrue(got.contains("error vcpus.count-vs-profile"), got.toString());
        assertTrue(got.contains("warning cputune.disagrees-with-profile"), got.toString());
    }

    @Test
    void guestTopologyVsSmtPairs() {
        TestHost h = TestHost.smt(root, 8);
        // the pins pair 2 with 3, which are different cores, while the guest believes they share one
        Domain crossed = DomainXml.parse(PINNED.formatted("", "")
                .replace("cpuset='10'/>", "cpuset='3'/>").replace("<vcpupin vcpu='2' cpuset='3'/>",
                        "<vcpupin vcpu='2' cpuset='10'/>"), "vm.xml");
        assertEquals(List.of("warning topology.smt-mismatch"), ids(h, crossed, Optional.empty()));

        Domain hidden = DomainXml.parse(PINNED.formatted("", "").replace("cores='4' threads='2'", "cores='8' threads='1'"),
                "vm.xml");
        assertEquals(List.of("warning topology.smt-hidden"), ids(h, hidden, Optional.empty()));
    }

    @Test
    void spreadOverL3GroupsNumaNodesAndFarFromTheGpu() {
        // 8 cores in 2 groups of 4 (0-3,8-11 and 4-7,12-15), each its own NUMA node
        TestHost h = TestHost.smt(root, 8, 2).file("/sys/bus/pci/devices/0000:0b:00.0/numa_node", "1");
        String gpu = "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                + "<address domain='0x0000' bus='0x0b' slot='0x00' function='0x0'/></source></hostdev>";
        // pins 2,10,3,11 (group 0) and 4,12,5,13 (group 1)
        assertEquals(List.of("warning topology.l3-spread", "warning topology.numa-spread"),
                ids(h, pinned("", ""), Optional.empty()));
        Domain local = DomainXml.parse(PINNED.formatted("", gpu).replace("cpuset='4'/>", "cpuset='0'/>")
                .replace("cpuset='12'/>", "cpuset='8'/>").replace("cpuset='5'/>", "cpuset='1'/>")
                .replace("cpuset='13'/>", "cpuset='9'/>").replace("0-1,8-9", "6-7,14-15"), "vm.xml");
        assertEquals(List.of("warning topology.far-from-device"), ids(h, local, Optional.empty()));
    }

    @Test
    void pinsToOfflineCpus() {
        TestHost h = TestHost.smt(root, 4);
        assertEquals(List.of("error cputune.pin-offline"), ids(h, pinned("", ""), Optional.empty()).stream()
                .filter(s -> s.contains("pin-offline")).toList());
    }

    @Test
    void sparseImageThatCannotBeReadIsInfo() {
        TestHost h = TestHost.smt(root, 8);
        Domain d = DomainXml.parse(PINNED.formatted("", "").replace("type='block'", "type='file'")
                .replace("<source dev='/dev/sdb'/>", "<source file='/images/missing.img'/>"), "vm.xml");
        assertEquals(List.of("info disk.native-sparse-unknown"), ids(h, d, Optional.empty()));
    }

    @Test
    void hybridMix() {
        TestHost h = TestHost.smt(root, 8).file("/sys/devices/cpu_core/cpus", "0-3,8-11")
                .file("/sys/devices/cpu_atom/cpus", "4-7,12-15");
        assertEquals(List.of("warning topology.mixed-core-types"), ids(h, pinned("", ""), Optional.empty()));
    }

    /** The tuned baseline's disk swapped for {@code disk}. */
    static Domain withDisk(String disk) {
        String base = PINNED.formatted("", "");
        int from = base.indexOf("<disk ");
        int to = base.indexOf("</disk>") + "</disk>".length();
        return DomainXml.parse(base.substring(0, from) + disk + base.substring(to), "vm.xml");
    }

    /** Issue 18 item 10: no cache or io attribute is QEMU's default writeback, the first thing the seeds changed. */
    @Test
    void fileImageOnTheDefaultCacheMode() {
        TestHost h = TestHost.smt(root, 8);
        List<Finding> ide = findings(h, withDisk("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                + "<source file='/var/lib/libvirt/images/win.qcow2'/><target dev='hda' bus='ide'/></disk>"));
        assertEquals(List.of("disk.emulated-bus", "disk.page-cache"), ide.stream().map(Finding::id).toList());
        Finding f = ide.get(1);
        assertEquals(Severity.WARNING, f.severity());
        assertEquals("disk hda (ide, file /var/lib/libvirt/images/win.qcow2): <driver name='qemu' type='qcow2'/>"
                + " (QEMU's default cache=writeback, io=threads)", f.evidence());
        assertTrue(f.why().startsWith("A disk image behind the host page cache (cache=writeback) has every guest write"
                + " copied into host memory"), f.why());
        assertEquals("<driver name='qemu' type='qcow2' cache='none' io='native'/> (or io='io_uring' with QEMU 5.0 and"
                + " libvirt 6.3 or later; on a sparse image on ext4 or xfs preallocate it first or use io_uring: see"
                + " disk.native-on-sparse); once the disk is on virtio, give it an iothread: <iothreads>1</iothreads>"
                + " in <domain> and iothread='1' on this <driver>", f.fix());

        // an explicit writeback says so, without the defaults; the virtio disk needs no word on the bus
        List<Finding> explicit = findings(h, withDisk("<disk type='file' device='disk'><driver name='qemu' type='raw'"
                + " cache='writeback' io='threads' iothread='1'/><source file='/images/a.img'/>"
                + "<target dev='vda' bus='virtio'/></disk>"));
        assertEquals(List.of("disk.page-cache"), explicit.stream().map(Finding::id).toList());
        assertEquals("disk vda (virtio, file /images/a.img): <driver name='qemu' type='raw' cache='writeback' io='threads'"
                + " iothread='1'/>", explicit.get(0).evidence());
        assertTrue(explicit.get(0).fix().startsWith("<driver name='qemu' type='raw' cache='none' io='native' iothread='1'/>"),
                explicit.get(0).fix());

        // bypassing the page cache is what it asks for
        assertEquals(List.of(), ids(h, withDisk("<disk type='file' device='disk'><driver name='qemu' type='raw'"
                + " cache='none' io='io_uring' iothread='1'/><source file='/images/a.img'/>"
                + "<target dev='vda' bus='virtio'/></disk>"), Optional.empty()));
    }

    /** Issue 18 item 11: a block device with cache='none' is past the page cache; only the thread pool part is left. */
    @Test
    void blockDeviceWithCacheNoneOnTheThreadPool() {
        TestHost h = TestHost.smt(root, 8);
        List<Finding> f = findings(h, withDisk("<disk type='block' device='disk'><driver name='qemu' type='raw'"
                + " cache='none' iothread='1'/><source dev='/dev/sdb'/><target dev='vda' bus='virtio'/></disk>"));
        assertEquals(List.of("disk.block-io-threads"), f.stream().map(Finding::id).toList());
        assertFalse(f.get(0).why().contains("page cache behind") || f.get(0).why().contains("behind the host page cache"),
                f.get(0).why());
        assertEquals("<driver name='qemu' type='raw' cache='none' io='native' iothread='1'/> (or io='io_uring' with QEMU"
                + " 5.0 and libvirt 6.3 or later)", f.get(0).fix());
        List<Finding> cached = findings(h, withDisk("<disk type='block' device='disk'><driver name='qemu' type='raw'"
                + " iothread='1'/><source dev='/dev/sdb'/><target dev='vda' bus='virtio'/></disk>"));
        assertEquals(List.of("disk.block-not-direct"), cached.stream().map(Finding::id).toList());
        assertTrue(cached.get(0).why().startsWith("A block device behind the host page cache (cache=writeback)"),
                cached.get(0).why());
    }

    /** Issue 16 item 3: the emulator goes with vCPU 0 under TCG and on host CPUs under KVM; the opposite is flagged. */
    @Test
    void emulatorPlacementByAccelerator() {
        TestHost h = TestHost.smt(root, 8);
        Domain tcgOnHost = DomainXml.parse(PINNED.formatted("", "").replace("type='kvm'", "type='qemu'"), "vm.xml");
        List<Finding> f = findings(h, tcgOnHost);
        assertEquals(List.of("cputune.emulator-away-from-vcpus"), f.stream().map(Finding::id).toList());
        assertEquals("<domain type='qemu'> (TCG); <emulatorpin cpuset='0-1,8-9'/>, vCPUs on 2-5,10-13", f.get(0).evidence());
        assertEquals("Without KVM the emulator thread runs the guest's timers, so away from the vCPUs every guest wake-up"
                + " waits behind host work (measured on a 1-vCPU TCG guest under stress-ng --cpu 2: p99 3351-4071 us with"
                + " the emulator on a host CPU, 106-141 us with it on the vCPU's CPU).", f.get(0).why());
        assertEquals("<emulatorpin cpuset='2'/> in <cputune>: vCPU 0's CPU", f.get(0).fix());

        Domain tcgWithVcpu0 = DomainXml.parse(PINNED.formatted("", "").replace("type='kvm'", "type='qemu'")
                .replace("<emulatorpin cpuset='0-1,8-9'/>", "<emulatorpin cpuset='2'/>"), "vm.xml");
        assertEquals(List.of(), ids(h, tcgWithVcpu0, Optional.empty()), "right under TCG");
        Domain kvmWithVcpu0 = DomainXml.parse(PINNED.formatted("", "")
                .replace("<emulatorpin cpuset='0-1,8-9'/>", "<emulatorpin cpuset='2'/>"), "vm.xml");
        assertEquals(List.of("warning cputune.emulator-on-vcpus"), ids(h, kvmWithVcpu0, Optional.empty()), "wrong under KVM");

        // with a profile, the profile is what the hook pins from: its emulator_cpus is judged and named in the fix
        ProfileView onHost = new ProfileView(CpuSet.parseList("0-1,6-9,14-15"), List.of(2, 10, 3, 11, 4, 12, 5, 13),
                CpuSet.parseList("2-5,10-13"), CpuSet.parseList("0-1,8-9"), CpuSet.parseList("0-1,8-9"));
        List<Finding> p = Doctor.examine(new DoctorInput(tcgOnHost, Optional.of(onHost), h.fs(),
                Optional.of(TopologyReader.read(h.fs()))));
        assertEquals(List.of("cputune.emulator-away-from-vcpus"), p.stream().map(Finding::id).toList());
        assertEquals("leave emulator_cpus out of the profile (under TCG it then goes on vCPU 0's CPU, 2), or write"
                + " emulator_cpus: 2", p.get(0).fix());
    }

    /** Issue 18 item 11: every emulated bus, not only IDE and SATA; SCSI is emulated unless on virtio-scsi. */
    @Test
    void scsiOnAnEmulatedControllerAndUsbAreEmulatedBuses() {
        TestHost h = TestHost.smt(root, 8);
        String scsiDisk = "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>"
                + "<source dev='/dev/sdb'/><target dev='sda' bus='scsi'/><address type='drive' controller='0'/></disk>";
        List<Finding> lsilogic = findings(h, withDisk(scsiDisk + "<controller type='scsi' index='0' model='lsilogic'/>"));
        assertEquals(List.of("disk.emulated-bus"), lsilogic.stream().map(Finding::id).toList());
        assertEquals("disk sda (scsi, block /dev/sdb): <target dev='sda' bus='scsi'/> on <controller type='scsi' index='0'"
                + " model='lsilogic'/>", lsilogic.get(0).evidence());
        assertTrue(lsilogic.get(0).why().startsWith("An emulated lsilogic SCSI controller traps to QEMU"), lsilogic.get(0).why());
        assertTrue(lsilogic.get(0).fix().startsWith("<controller type='scsi' index='0' model='virtio-scsi'><driver"
                + " iothread='1'/></controller>"), lsilogic.get(0).fix());
        assertEquals("disk sda (scsi, block /dev/sdb): <target dev='sda' bus='scsi'/> on SCSI controller 0, not in the XML"
                + " (libvirt's default model on x86: lsilogic)", findings(h, withDisk(scsiDisk)).get(0).evidence());
        assertEquals(List.of(), ids(h, withDisk(scsiDisk
                + "<controller type='scsi' index='0' model='virtio-scsi'><driver iothread='1'/></controller>"),
                Optional.empty()));
        List<Finding> usb = findings(h, withDisk("<disk type='block' device='disk'><driver name='qemu' type='raw'"
                + " cache='none' io='native'/><source dev='/dev/sdc'/><target dev='sdc' bus='usb'/></disk>"));
        assertEquals(List.of("disk.emulated-bus"), usb.stream().map(Finding::id).toList());
        assertTrue(usb.get(0).why().startsWith("An emulated USB controller"), usb.get(0).why());
    }

    /** Issue 18 item 11: a virtio-scsi controller's queues want an iothread as much as a virtio disk does. */
    @Test
    void virtioScsiControllerWithoutAnIothread() {
        TestHost h = TestHost.smt(root, 8);
        String disk = "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>"
                + "<source dev='/dev/sdb'/><target dev='sda' bus='scsi'/></disk>"
                + "<controller type='scsi' index='0' model='virtio-scsi'><driver queues='4'/></controller>";
        List<Finding> withIothreads = findings(h, withDisk(disk));
        assertEquals(List.of("iothreads.controller-unassigned"), withIothreads.stream().map(Finding::id).toList());
        assertEquals("<controller type='scsi' index='0' model='virtio-scsi'/> with 4 queues, no <driver iothread>",
                withIothreads.get(0).evidence());
        assertEquals("<controller type='scsi' index='0' model='virtio-scsi'><driver queues='4' iothread='1'/></controller>",
                withIothreads.get(0).fix());

        Domain none = DomainXml.parse(PINNED.formatted("", "").replaceFirst("(?s)<disk .*?</disk>", disk)
                .replace("<iothreads>1</iothreads>", "").replaceFirst("(?s)<iothreadids>.*?</iothreadids>", "")
                .replace("<iothreadpin iothread='1' cpuset='0-1,8-9'/>", ""), "vm.xml");
        List<Finding> without = findings(h, none);
        assertEquals(List.of("iothreads.none"), without.stream().map(Finding::id).toList());
        assertEquals("<iothreads> absent; 1 virtio-scsi controller(s) with disks", without.get(0).evidence());
        assertEquals("<iothreads>1</iothreads> in <domain>; <driver iothread='1'/> in each virtio-scsi <controller>; and"
                + " <iothreadpin iothread='1' cpuset='0-1,8-9'/> in <cputune>", without.get(0).fix());
    }

    /** Issue 18 item 11: vCPUs under {@code <vcpu cpuset>} or numad are not floating over the host. */
    @Test
    void vcpuPlacementStaticCpusetAndAuto() {
        TestHost h = TestHost.smt(root, 8);
        String base = PINNED.formatted("", "").replaceFirst("(?s)<vcpupin .*<vcpupin vcpu='7' cpuset='13'/>", "");
        Domain shared = DomainXml.parse(base.replace("<vcpu>8</vcpu>", "<vcpu placement='static' cpuset='2-5,10-13'>8</vcpu>")
                .replace("<emulatorpin cpuset='0-1,8-9'/>", ""), "vm.xml");
        List<Finding> f = findings(h, shared);
        assertEquals(List.of("cputune.vcpus-share-cpuset", "cputune.emulator-on-vcpus"), f.stream().map(Finding::id).toList());
        assertEquals("<vcpu cpuset='2-5,10-13'>; no <vcpupin> for vCPU(s) [0, 1, 2, 3, 4, 5, 6, 7] and no profile given",
                f.get(0).evidence());
        assertEquals("no <emulatorpin>, so libvirt runs it on <vcpu cpuset='2-5,10-13'>, vCPUs on 2-5,10-13",
                f.get(1).evidence());
        assertEquals("<emulatorpin cpuset='0-1,6-9,14-15'/>", f.get(1).fix(), "the host's CPUs: the vCPUs' set is known");

        Domain numad = DomainXml.parse(base.replace("<vcpu>8</vcpu>", "<vcpu placement='auto'>8</vcpu>"), "vm.xml");
        assertEquals(List.of("warning cputune.vcpus-numad"), ids(h, numad, Optional.empty()));
    }

    /** Issue 18 item 11: without a profile, iothread fixes name real CPUs, never an empty set or HOST_CPUS. */
    @Test
    void iothreadFixesWithoutAProfileNameRealCpus() {
        TestHost h = TestHost.smt(root, 8);
        Domain floating = DomainXml.parse(PINNED.formatted("", "").replaceFirst("(?s)<cputune>.*</cputune>", ""), "vm.xml");
        List<Finding> f = findings(h, floating);
        Finding unpinned = f.stream().filter(x -> x.id().equals("iothreads.unpinned")).findFirst().orElseThrow();
        assertEquals("<iothreadpin iothread='1' cpuset='0,8'/> in <cputune>, or iothread_cpus: 0,8 in the profile",
                unpinned.fix(), "the core suggest would keep for the host");
        for (Finding x : f) {
            assertFalse(x.fix().contains("HOST_CPUS") || x.fix().contains("''") || x.evidence().contains("host keeps ,"),
                    x.toString());
        }
    }

    /** Issue 18 item 11: a {@code <vcpu cpuset>} over every CPU leaves the host none: no fix names an empty set. */
    @Test
    void vcpusOnEveryCpuGetNoHostAdviceWithAnEmptySet() {
        TestHost h = TestHost.smt(root, 8).file("/proc/812/comm", "irqbalance")
                .file("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet");
        String base = PINNED.formatted("", "").replaceFirst("(?s)<vcpupin .*<vcpupin vcpu='7' cpuset='13'/>", "");
        Domain all = DomainXml.parse(base.replace("<vcpu>8</vcpu>", "<vcpu placement='static' cpuset='0-15'>8</vcpu>"),
                "vm.xml");
        List<Finding> f = findings(h, all);
        assertEquals(List.of("iothreads.on-vm-cpus", "cputune.vcpus-share-cpuset", "cputune.emulator-on-vcpus"),
                f.stream().map(Finding::id).toList(), "no irqbalance ban, no kernel line for a host that keeps nothing");
        for (Finding x : f) {
            assertFalse(x.fix().matches("(?s).*(=''|= |=$).*"), x.toString());
        }
    }

    /** Issue 18 item 11: a pin to CPUs the host lacks is caught in lists of any size, and they are not the VM's. */
    @Test
    void pinsToCpusTheHostLacksInListsOfSeveral() {
        TestHost h = TestHost.smt(root, 8).file("/proc/812/comm", "irqbalance");
        Domain d = DomainXml.parse(PINNED.formatted("", "")
                .replace("<vcpupin vcpu='0' cpuset='2'/>", "<vcpupin vcpu='0' cpuset='2,2048,4096'/>")
                .replace("<vcpupin vcpu='1' cpuset='10'/>", "<vcpupin vcpu='1' cpuset='10,16383'/>"), "vm.xml");
        List<Finding> f = findings(h, d);
        Finding offline = f.stream().filter(x -> x.id().equals("cputune.pin-offline")).findFirst().orElseThrow();
        assertEquals(Severity.ERROR, offline.severity());
        assertEquals("<vcpupin vcpu='0' cpuset='2,2048,4096'/>, <vcpupin vcpu='1' cpuset='10,16383'/>; online CPUs 0-15",
                offline.evidence());
        assertTrue(offline.why().startsWith("Pins to CPUs 2048,4096,16383, which are offline or do not exist here"),
                offline.why());
        Finding irqbalance = f.stream().filter(x -> x.id().equals("host.irqbalance-unbanned")).findFirst().orElseThrow();
        assertTrue(irqbalance.fix().startsWith("IRQBALANCE_BANNED_CPULIST=2-5,10-13 in"), "only CPUs the host has: "
                + irqbalance.fix());
    }

    /** Issue 18 item 11: one pin that cannot be read is a finding; the rest of the report still comes. */
    @Test
    void aPinThatCannotBeReadIsAFindingNotTheEnd() {
        TestHost h = TestHost.smt(root, 8);
        Domain d = DomainXml.parse(PINNED.formatted("", "").replace("<vcpupin vcpu='7' cpuset='13'/>",
                "<vcpupin vcpu='7' cpuset='13-'/>"), "vm.xml");
        List<Finding> f = findings(h, d);
        assertEquals(List.of("cputune.pin-unreadable", "cputune.vcpus-unpinned"), f.stream().map(Finding::id).toList());
        assertEquals("<vcpupin cpuset='13-' vcpu='7'/>: cpuset '13-': missing CPU number", f.get(0).evidence());
    }
}
