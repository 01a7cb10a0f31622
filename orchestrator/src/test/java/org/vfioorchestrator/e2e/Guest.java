package org.vfioorchestrator.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * The end-to-end tests' VM: a small TCG domain (no KVM needed) and its QEMU process as /proc shows it,
 * and the hook's log as the tool writes it.
 */
final class Guest {
    static final Path HOOK_LOG = Path.of("/var/log/vfio-orchestrator/hook.log");
    static final Path JOURNAL = Path.of("/run/vfio-orchestrator/journal.json");
    static final Path PROFILES = Path.of("/etc/vfio-orchestrator/profiles");
    static final String WQ = "/sys/devices/virtual/workqueue";

    private Guest() {
    }

    /** What a test class's set-up does; the reason it throws is the reason every test of it skips. */
    interface Preparation {
        void prepare() throws Exception;
    }

    /** Runs {@code prepare}; null when the machine can run the tests, else why not (printed once). */
    static String skipReasonOf(String test, Preparation preparation) throws Exception {
        try {
            preparation.prepare();
            return null;
        } catch (org.opentest4j.TestAbortedException e) {
            String reason = e.getMessage().replaceFirst("^Assumption failed: ", "");
            System.err.println(test + ": skipped: " + reason);
            return reason;
        }
    }

    /**
     * What every hook end-to-end test needs of this machine: root, the tools, CPUs 0 and 1, and no install
     * or isolated VM of anyone else's (it installs and removes its own copy of the tool).
     */
    static void requireMachineToItself(String whyRoot, List<String> tools, String packages) throws IOException {
        org.vfioorchestrator.testing.Requires.root(whyRoot);
        for (String tool : tools) {
            org.vfioorchestrator.testing.Requires.that(Libvirtd.onPath(tool).isPresent(), "needs " + tool
                    + " (apt-get install " + packages + ")");
        }
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        org.vfioorchestrator.testing.Requires.that(online.contains(0) && online.contains(1), "needs online CPUs 0 and 1"
                + " (has " + online + ")");
        org.vfioorchestrator.testing.Requires.that(!Files.exists(Path.of("/etc/vfio-orchestrator/install.manifest")),
                "vfio-orchestrator is installed on this machine (/etc/vfio-orchestrator/install.manifest): the test"
                        + " installs and removes its own copy and does not run over a real install");
        org.vfioorchestrator.testing.Requires.that(!Files.exists(JOURNAL), JOURNAL + " exists: vfio-orchestrator"
                + " isolates VMs on this machine right now; the test needs the host to itself");
    }

    /** Boots nothing: SeaBIOS finds no boot device and waits, which is all a pinning test needs. */
    static String domainXml(String name, int vcpus, String qemuBinary) {
        return "<domain type='qemu'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>64</memory>\n"
                + "  <vcpu placement='static'>" + vcpus + "</vcpu>\n"
                + "  <iothreads>1</iothreads>\n"
                + "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                + "  <devices>\n"
                + "    <emulator>" + qemuBinary + "</emulator>\n"
                + "    <memballoon model='none'/>\n"
                + "  </devices>\n"
                + "</domain>\n";
    }

    /**
     * The real-kernel lab's Debian guest (systemd, qemu-guest-agent, rt-tests) booted straight into its
     * kernel from {@code image} (build-image.sh's folder), its disk a throw-away qcow2 {@code overlay} on the
     * raw image, and the agent's virtio channel. QEMU runs as root (a static DAC label, nothing relabelled):
     * the image folder is root's alone.
     */
    static String labDomainXml(String name, int vcpus, String qemuBinary, Path image, Path overlay, Path console) {
        return "<domain type='qemu'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>1024</memory>\n"
                + "  <vcpu placement='static'>" + vcpus + "</vcpu>\n"
                + "  <os>\n"
                + "    <type arch='x86_64' machine='pc'>hvm</type>\n"
                + "    <kernel>" + image.resolve("vmlinuz-6.1") + "</kernel>\n"
                + "    <initrd>" + image.resolve("initrd.img-6.1") + "</initrd>\n"
                + "    <cmdline>root=/dev/vda rw console=ttyS0</cmdline>\n"
                + "  </os>\n"
                + "  <devices>\n"
                + "    <emulator>" + qemuBinary + "</emulator>\n"
                + "    <disk type='file' device='disk'>\n"
                + "      <driver name='qemu' type='qcow2'/>\n"
                + "      <source file='" + overlay + "'/>\n"
                + "      <target dev='vda' bus='virtio'/>\n"
                + "    </disk>\n"
                + "    <serial type='file'><source path='" + console + "'/></serial>\n"
                + "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
                + "    <memballoon model='none'/>\n"
                + "  </devices>\n"
                + "  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>\n"
                + "</domain>\n";
    }

    /** Every IRQ's affinity, the default IRQ mask and the workqueue masks: what the hook moves off a VM's CPUs. */
    static Map<String, String> kernelState() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/irq"))) {
            for (Path p : s.toList()) {
                Path list = p.resolve("smp_affinity_list");
                if (p.getFileName().toString().matches("\\d+") && Files.exists(list)) {
                    m.put(list.toString(), Files.readString(list));
                }
            }
        }
        for (String f : List.of("/proc/irq/default_smp_affinity", WQ + "/cpumask", WQ + "/writeback/cpumask")) {
            if (Files.exists(Path.of(f))) {
                m.put(f, Files.readString(Path.of(f)));
            }
        }
        return m;
    }

    static int qemuPid(String name) throws IOException {
        return Integer.parseInt(Files.readString(Path.of("/run/libvirt/qemu/" + name + ".pid")).strip());
    }

    /** Thread id to name ({@code CPU 0/TCG}, {@code IO iothread1}, ...). */
    static Map<Integer, String> threads(int pid) throws IOException {
        Map<Integer, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : s.toList()) {
                out.put(Integer.parseInt(t.getFileName().toString()), Files.readString(t.resolve("comm")).strip());
            }
        }
        return out;
    }

    static CpuSet affinity(int pid, int tid) {
        try {
            return CpuSet.parseList(statusField(Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/status")),
                    "Cpus_allowed_list"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String statusField(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).strip();
            }
        }
        throw new AssertionError("no " + key + " in " + status);
    }

    static long hookLogSize() throws IOException {
        return Files.exists(HOOK_LOG) ? Files.size(HOOK_LOG) : 0;
    }

    /** What the hook logged after {@code start} bytes. */
    static String hookLogSince(long start) {
        try {
            if (!Files.exists(HOOK_LOG)) {
                return "";
            }
            byte[] all = Files.readAllBytes(HOOK_LOG);
            return new String(all, (int) Math.min(start, all.length), (int) Math.max(0, all.length - start),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + HOOK_LOG + ": " + e + ")";
        }
    }
}
