package org.vfioorchestrator.testing;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.KernelRelease;

/**
 * Writes a synthetic Linux host tree ({@code sys/}, {@code proc/}, {@code run/},
 * {@code etc/}) in the kernel's exact formats, deterministically from a
 * {@link HostSpec}: same spec, byte-identical tree. The tree is what
 * {@code TreeHostFs} simulates the kernel on, so its conventions are kept:
 * thread affinity in {@code .../status}, PF_NO_SETAFFINITY in the stat flags,
 * managed IRQs marked in {@code /sys/kernel/debug/irq/irqs/N}, masks as wide as
 * nr_cpu_ids.
 *
 * <pre>
 * java -cp orchestrator/target/test-classes:orchestrator/target/classes \
 *     org.vfioorchestrator.testing.HostTreeGenerator --preset gaming-rig --out DIR
 * </pre>
 */
public final class HostTreeGenerator {
    // task flags (include/linux/sched.h)
    static final long PF_FORKNOEXEC = 0x00000040L;
    static final long PF_WQ_WORKER = 0x00000020L;
    static final long PF_SUPERPRIV = 0x00000100L;
    static final long PF_USER_WORKER = 0x00004000L;
    static final long PF_NOFREEZE = 0x00008000L;
    static final long PF_KTHREAD = 0x00200000L;
    static final long PF_RANDOMIZE = 0x00400000L;
    static final long PF_NO_SETAFFINITY = 0x04000000L;

    static final long KTHREAD_FLAGS = PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC;
    static final long PERCPU_KTHREAD_FLAGS = KTHREAD_FLAGS | PF_NO_SETAFFINITY;
    static final long KWORKER_FLAGS = PERCPU_KTHREAD_FLAGS | PF_WQ_WORKER;

    /** x86_64 without MAXSMP: NODES_SHIFT=6, so Mems_allowed prints 64 bits. */
    private static final int MAX_NUMNODES = 64;
    private static final int USER_HZ = 100;
    private static final String QEMU = "/usr/bin/qemu-system-x86_64";

    private final HostSpec spec;
    private final Random rnd;
    private final SortedMap<String, byte[]> files = new TreeMap<>();

    // topology
    private final int cores;
    private final int coresPerPackage;
    private final int coresPerNode;
    private final int coresPerL3;
    private final CpuSet possible;
    private final CpuSet online;
    private final CpuSet housekeeping;
    /** Where tasks may run by default: online CPUs minus isolcpus. */
    private final CpuSet userAffinity;
    /** kthreadd and unbound kernel threads: possible CPUs minus isolcpus and nohz_full. */
    private final CpuSet kthreadAffinity;
    /** Unbound workqueues: possible CPUs minus isolcpus. */
    private final CpuSet unboundWq;

    private final List<Proc> procs = new ArrayList<>();
    private final List<Irq> irqList = new ArrayList<>();
    private long bootTicks;

    private HostTreeGenerator(HostSpec spec) {
        this.spec = spec;
        this.rnd = new Random(spec.seed());
        cores = spec.cpus() / spec.threadsPerCore();
        coresPerPackage = cores / spec.packages();
        coresPerNode = cores / spec.numaNodes();
        coresPerL3 = spec.cpusPerL3() / spec.threadsPerCore();
        possible = CpuSet.range(0, spec.cpus() - 1);
        online = possible.difference(spec.offline());
        housekeeping = online.difference(spec.isolcpus());
        userAffinity = housekeeping.isEmpty() ? online : housekeeping;
        CpuSet kt = possible.difference(spec.isolcpus());
        if (spec.nohzFull() != null) {
            kt = kt.difference(spec.nohzFull());
        }
        kthreadAffinity = kt.isEmpty() ? possible : kt;
        unboundWq = possible.difference(spec.isolcpus()).isEmpty() ? possible : possible.difference(spec.isolcpus());
    }

    /** The tree as relative path -> bytes, sorted. */
    public static SortedMap<String, byte[]> render(HostSpec spec) {
        HostTreeGenerator g = new HostTreeGenerator(spec);
        g.build();
        return g.files;
    }

    private static final Map<HostSpec, SortedMap<String, byte[]>> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Writes the tree for {@code spec} under {@code root}, rendering each spec only once per test run:
     * rendering is the slow part, writing is quick. For tests that build many trees of one shape.
     */
    public static void writeCached(HostSpec spec, Path root) throws IOException {
        for (Map.Entry<String, byte[]> e : RENDERED.computeIfAbsent(spec, HostTreeGenerator::render).entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
    }

    /** Writes the tree under {@code out}, which must be missing or empty. */
    public static int generate(HostSpec spec, Path out) throws IOException {
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new IOException(out + " is not empty; remove it first (the generator never deletes)");
                }
            }
        }
        SortedMap<String, byte[]> tree = render(spec);
        java.util.Set<Path> made = new java.util.HashSet<>();
        for (Map.Entry<String, byte[]> e : tree.entrySet()) {
            Path p = out.resolve(e.getKey());
            if (made.add(p.getParent())) {
                Files.createDirectories(p.getParent());
            }
            Files.write(p, e.getValue());
        }
        return tree.size();
    }

    private void build() {
        bootTicks = 360_000L + rnd.nextInt(100_000); // 1-1.3 hours of uptime, in USER_HZ ticks
        cpuFiles();
        nodeFiles();
        buildTasks();
        irqs();
        workqueues();
        cgroups();
        taskFiles();
        misc();
    }

    // ---- topology ------------------------------------------------------------------------

    private int coreOf(int cpu) {
        return cpu % cores;
    }

    private CpuSet coreCpus(int core) {
        List<Integer> l = new ArrayList<>();
        for (int t = 0; t < spec.threadsPerCore(); t++) {
            l.add(core + t * cores);
        }
        return CpuSet.of(l);
    }

    private CpuSet coresCpus(int firstCore, int count) {
        CpuSet s = CpuSet.empty();
        for (int c = firstCore; c < firstCore + count; c++) {
            s = s.union(coreCpus(c));
        }
        return s;
    }

    private String list(CpuSet s) {
        return s + "\n";
    }

    private String mask(CpuSet s) {
        return s.toMask(spec.cpus()) + "\n";
    }

    private void put(String path, String content) {
        files.put(path, content.getBytes(StandardCharsets.UTF_8));
    }

    private void cpuFiles() {
        String base = "sys/devices/system/cpu/";
        put(base + "possible", list(possible));
        put(base + "present", list(possible));
        put(base + "online", list(online));
        put(base + "offline", list(spec.offline()));
        put(base + "isolated", list(spec.isolcpus()));
        // without nohz_full= an NR_CPUS=320 kernel prints an empty line (MAXSMP kernels print "(null)")
        put(base + "nohz_full", spec.nohzFull() == null ? "\n" : list(spec.nohzFull()));
        put(base + "kernel_max", (spec.cpus() > 320 ? 8191 : 319) + "\n");
        boolean smt = spec.threadsPerCore() > 1;
        put(base + "smt/control", smt ? "on\n" : "notsupported\n");
        put(base + "smt/active", smt ? "1\n" : "0\n");
        if (spec.cpufreqDriver() != null && spec.cpufreqDriver().equals("acpi-cpufreq")) {
            put(base + "cpufreq/boost", "1\n");
        }
        if (spec.cpuidle()) {
            put(base + "cpuidle/current_driver", "acpi_idle\n");
            put(base + "cpuidle/current_governor_ro", "menu\n");
        }
        for (int cpu = 0; cpu < spec.cpus(); cpu++) {
            String d = base + "cpu" + cpu + "/";
            if (!online.contains(cpu)) {
                put(d + "online", "0\n");
                continue;
            }
            if (cpu != 0) {
                put(d + "online", "1\n");
            }
            int core = coreOf(cpu);
            int pkg = core / coresPerPackage;
            CpuSet siblings = coreCpus(core).intersection(online);
            CpuSet pkgCpus = coresCpus(pkg * coresPerPackage, coresPerPackage).intersection(online);
            put(d + "topology/physical_package_id", pkg + "\n");
            put(d + "topology/die_id", "0\n");
            put(d + "topology/core_id", (core % coresPerPackage) + "\n");
            put(d + "topology/thread_siblings_list", list(siblings));
            put(d + "topology/thread_siblings", mask(siblings));
            put(d + "topology/core_cpus_list", list(siblings));
            put(d + "topology/core_cpus", mask(siblings));
            put(d + "topology/core_siblings_list", list(pkgCpus));
            put(d + "topology/package_cpus_list", list(pkgCpus));
            put(d + "topology/die_cpus_list", list(pkgCpus));
            int l3 = core / coresPerL3;
            CpuSet l3Cpus = coresCpus(l3 * coresPerL3, coresPerL3).intersection(online);
            cache(d + "cache/index0/", 1, "Data", siblings, "32K", core);
            cache(d + "cache/index1/", 1, "Instruction", siblings, "32K", core);
            cache(d + "cache/index2/", 2, "Unified", siblings, "512K", core);
            cache(d + "cache/index3/", 3, "Unified", l3Cpus, (coresPerL3 * 4096) + "K", l3);
            if (spec.cpufreqDriver() != null) {
                String f = d + "cpufreq/";
                put(f + "scaling_driver", spec.cpufreqDriver() + "\n");
                put(f + "scaling_available_governors", HostSpec.isSetPolicyDriver(spec.cpufreqDriver())
                        ? "performance powersave\n"
                        : String.join(" ", spec.governors()) + " \n");
                put(f + "scaling_governor", spec.governor() + "\n");
                put(f + "cpuinfo_min_freq", "2200000\n");
                put(f + "cpuinfo_max_freq", "3400000\n");
                put(f + "scaling_min_freq", "2200000\n");
                put(f + "scaling_max_freq", "3400000\n");
            }
            if (spec.cpuidle()) {
                String[][] states = {
                    {"POLL", "CPUIDLE CORE POLL IDLE", "0", "0"},
                    {"C1", "ACPI FFH MWAIT 0x0", "1", "2"},
                    {"C2", "ACPI IOPORT 0x414", "18", "36"},
                    {"C3", "ACPI IOPORT 0x415", "350", "700"}};
                for (int k = 0; k < states.length; k++) {
                    String s = d + "cpuidle/state" + k + "/";
                    put(s + "name", states[k][0] + "\n");
                    put(s + "desc", states[k][1] + "\n");
                    put(s + "latency", states[k][2] + "\n");
                    put(s + "residency", states[k][3] + "\n");
                    put(s + "disable", "0\n");
                }
            }
            put(d + "power/pm_qos_resume_latency_us", "0\n");
        }
    }

    private void cache(String d, int level, String type, CpuSet shared, String size, int id) {
        put(d + "level", level + "\n");
        put(d + "type", type + "\n");
        put(d + "shared_cpu_list", list(shared));
        put(d + "shared_cpu_map", mask(shared));
        put(d + "size", size + "\n");
        put(d + "id", id + "\n");
    }

    private CpuSet nodeCpus(int node) {
        return coresCpus(node * coresPerNode, coresPerNode).intersection(online);
    }

    private CpuSet allNodes() {
        return CpuSet.range(0, spec.numaNodes() - 1);
    }

    private void nodeFiles() {
        String base = "sys/devices/system/node/";
        put(base + "possible", list(allNodes()));
        put(base + "online", list(allNodes()));
        put(base + "has_cpu", list(allNodes()));
        for (int n = 0; n < spec.numaNodes(); n++) {
            put(base + "node" + n + "/cpulist", list(nodeCpus(n)));
            put(base + "node" + n + "/cpumap", mask(nodeCpus(n)));
        }
    }

    // ---- IRQs ----------------------------------------------------------------------------

    /** One IRQ: a row of /proc/interrupts (when it has an action) and /proc/irq/N. */
    private static final class Irq {
        int number;
        String chip;
        long hwirq;
        String handler;
        String action;
        String device;
        boolean managed;
        boolean level;
        CpuSet affinity;
        CpuSet effective;
        long[] counts;
    }

    private int nextEffective;

    /** Builds the IRQ mix: legacy IO-APIC lines, then MSI/MSI-X devices, to exactly spec.irqs() rows. */
    private void irqs() {
        List<Irq> legacy = new ArrayList<>();
        legacy.add(ioapic(0, 2, "edge", "timer"));
        legacy.add(ioapic(1, 1, "edge", "i8042"));
        legacy.add(ioapic(7, 7, "fasteoi", "pinctrl_amd"));
        legacy.add(ioapic(8, 8, "edge", "rtc0"));
        legacy.add(ioapic(9, 9, "fasteoi", "acpi"));
        legacy.add(ioapic(12, 12, "edge", "i8042"));

        int queues = spec.nvmeQueues() > 0 ? spec.nvmeQueues() : cores;
        List<Irq> vfio = new ArrayList<>();
        if (spec.vm() != null) {
            for (int i = 0; i < 4; i++) {
                vfio.add(msi("IR-PCI-MSIX-0000:0b:00.0", i, "vfio-msix[" + i + "](0000:0b:00.0)", "0000:0b:00.0"));
            }
            vfio.add(msi("IR-PCI-MSI-0000:0b:00.1", 0, "vfio-msi[0](0000:0b:00.1)", "0000:0b:00.1"));
        }
        int mandatory = legacy.size() + 1 + queues + vfio.size();
        int target = spec.irqs() > 0 ? spec.irqs() : mandatory + 20;
        if (target < mandatory) {
            throw new IllegalArgumentException("irqs=" + target + " is below the minimal mix of " + mandatory
                    + " (legacy lines, nvme0 admin + " + queues + " queues" + (vfio.isEmpty() ? ")" : ", the passed-through GPU)"));
        }
        int left = target - mandatory;

        // optional devices, in the order they are taken; partial blocks allowed where a driver would use fewer vectors
        List<Irq> early = new ArrayList<>();  // probed before nvme
        List<Irq> late = new ArrayList<>();   // probed after
        if (left > 0) {
            early.add(msi("PCI-MSI-0000:00:00.2", 0, "AMD-Vi", "0000:00:00.2"));
            left--;
        }
        String[] ports = {"0000:00:01.1", "0000:00:01.2", "0000:00:03.1", "0000:00:07.1", "0000:00:08.1",
            "0000:02:00.0", "0000:03:04.0", "0000:03:08.0"};
        for (int i = 0; i < ports.length && left > 0; i++, left--) {
            early.add(msi("IR-PCI-MSI-" + ports[i], 0, "PCIe PME, aerdrv", ports[i]));
        }
        for (String x : new String[] {"0000:0e:00.3", "0000:05:00.3"}) {
            if (left > 0) {
                early.add(msi("IR-PCI-MSIX-" + x, 0, "xhci_hcd", x));
                left--;
            }
        }
        if (left > 0) {
            late.add(msi("IR-PCI-MSI-0000:0a:00.0", 0, "ahci[0000:0a:00.0]", "0000:0a:00.0"));
            left--;
        }
        if (left > 0) {
            late.add(msi("IR-PCI-MSIX-0000:06:00.0", 0, "enp6s0", "0000:06:00.0"));
            left--;
        }
        for (int q = 0; q < 4 && left > 0; q++, left--) {
            late.add(msi("IR-PCI-MSIX-0000:06:00.0", q + 1, "enp6s0-TxRx-" + q, "0000:06:00.0"));
        }
        if (left > 0) {
            late.add(msi("IR-PCI-MSI-0000:0e:00.4", 0, "snd_hda_intel:card0", "0000:0e:00.4"));
            left--;
        }
        if (left >= 3) {
            int wifiQueues = Math.min(Math.min(15, Math.max(1, online.size() - 1)), left - 2);
            late.add(msi("IR-PCI-MSIX-0000:04:00.0", 0, "iwlwifi: default queue", "0000:04:00.0"));
            for (int q = 1; q <= wifiQueues; q++) {
                late.add(msi("IR-PCI-MSIX-0000:04:00.0", q, "iwlwifi: queue " + q, "0000:04:00.0"));
            }
            late.add(msi("IR-PCI-MSIX-0000:04:00.0", wifiQueues + 1, "iwlwifi: exception", "0000:04:00.0"));
            left -= wifiQueues + 2;
        }
        // anything beyond: more NVMe drives (servers), the last with as many queues as are left
        List<List<Irq>> drives = new ArrayList<>();
        drives.add(nvme(0, "0000:01:00.0", queues));
        for (int n = 1; left > 0; n++) {
            if (left == 1) {
                late.add(msi("IR-PCI-MSI-0000:00:08.3", 0, "PCIe PME", "0000:00:08.3"));
                left = 0;
            } else {
                int q = Math.min(queues, left - 1);
                drives.add(nvme(n, String.format(Locale.ROOT, "0000:%02x:00.0", 0x40 + n), q));
                left -= q + 1;
            }
        }

        for (Irq irq : legacy) {
            irqList.add(irq);
        }
        int next = 24;
        List<Irq> ordered = new ArrayList<>(early);
        for (List<Irq> d : drives) {
            ordered.add(d.get(0)); // admin queues come up first
        }
        ordered.addAll(late);
        for (List<Irq> d : drives) {
            ordered.addAll(d.subList(1, d.size()));
        }
        ordered.addAll(vfio);
        for (Irq irq : ordered) {
            irq.number = next++;
            irqList.add(irq);
        }
        for (Irq irq : irqList) {
            placeAndCount(irq);
        }
        irqFiles();
    }

    private Irq ioapic(int number, int pin, String handler, String action) {
        Irq irq = new Irq();
        irq.number = number;
        irq.chip = "IR-IO-APIC";
        irq.hwirq = pin;
        irq.handler = handler;
        irq.level = handler.equals("fasteoi");
        irq.action = action;
        return irq;
    }

    private Irq msi(String chip, long hwirq, String action, String device) {
        Irq irq = new Irq();
        irq.chip = chip;
        irq.hwirq = hwirq;
        irq.handler = "edge";
        irq.action = action;
        irq.device = device;
        return irq;
    }

    /** nvme N: the admin queue (not managed), then one managed IRQ per group of cores, spread like group_cpus_evenly. */
    private List<Irq> nvme(int n, String bdf, int queues) {
        List<Irq> out = new ArrayList<>();
        out.add(msi("IR-PCI-MSIX-" + bdf, 0, "nvme" + n + "q0", bdf));
        int groups = Math.min(queues, cores);
        int per = cores / groups;
        int extra = cores % groups;
        int core = 0;
        for (int q = 1; q <= queues; q++) {
            Irq irq = msi("IR-PCI-MSIX-" + bdf, q, "nvme" + n + "q" + q, bdf);
            irq.managed = true;
            int g = (q - 1) % groups;
            if (q <= groups) {
                int take = per + (g < extra ? 1 : 0);
                irq.affinity = coresCpus(core, take);
                core += take;
            } else {
                irq.affinity = out.get(1 + g).affinity;
            }
            out.add(irq);
        }
        return out;
    }

    private void placeAndCount(Irq irq) {
        if (irq.managed) {
            CpuSet on = irq.affinity.intersection(online);
            irq.effective = on.isEmpty() ? CpuSet.empty() : CpuSet.of(on.first());
        } else if (irq.device != null && spec.irqbalance()) {
            // irqbalance places device IRQs on a core (both threads), avoiding banned and isolated CPUs
            CpuSet allowed = userAffinity;
            if (spec.irqbalanceBanned() != null && !allowed.difference(spec.irqbalanceBanned()).isEmpty()) {
                allowed = allowed.difference(spec.irqbalanceBanned());
            }
            List<Integer> cpus = allowed.toList();
            int cpu = cpus.get(rnd.nextInt(cpus.size()));
            irq.affinity = coreCpus(coreOf(cpu)).intersection(allowed);
            irq.effective = CpuSet.of(irq.affinity.first());
        } else {
            irq.affinity = possible;
            if (irq.number < 16) {
                irq.effective = CpuSet.of(0);
            } else {
                List<Integer> cpus = online.toList();
                irq.effective = CpuSet.of(cpus.get(nextEffective++ % cpus.size()));
            }
        }
        irq.counts = new long[spec.cpus()];
        int scale = irq.action.startsWith("vfio") || irq.action.startsWith("nvme") ? 2_000_000
                : irq.action.equals("timer") || irq.action.startsWith("i8042") || irq.action.equals("rtc0") ? 60
                : 200_000;
        if (!irq.effective.isEmpty()) {
            irq.counts[irq.effective.first()] = 1 + rnd.nextInt(scale);
        }
        if (!irq.managed && online.contains(0) && irq.effective.first() != 0 && rnd.nextBoolean()) {
            irq.counts[0] += rnd.nextInt(1 + scale / 20); // before irqbalance moved it
        }
    }

    private void irqFiles() {
        int nrIrqs = 424 + 8 * spec.cpus(); // x86 arch_probe_nr_irqs with gsi_top=24
        int prec = 3;
        for (long j = 1000; prec < 10 && j <= nrIrqs; prec++) {
            j *= 10;
        }
        put("proc/irq/default_smp_affinity", mask(possible));
        Map<Integer, Irq> byNumber = new LinkedHashMap<>();
        for (Irq irq : irqList) {
            byNumber.put(irq.number, irq);
        }
        // legacy 0-15 always have a directory, used or not
        for (int n = 0; n < 16; n++) {
            if (!byNumber.containsKey(n)) {
                irqDir(n, possible, CpuSet.of(0));
            }
        }
        for (Irq irq : irqList) {
            irqDir(irq.number, irq.affinity, irq.effective);
            put("sys/kernel/debug/irq/irqs/" + irq.number, debugIrq(irq));
        }

        StringBuilder sb = new StringBuilder();
        sb.append(" ".repeat(prec + 8));
        for (int cpu : online.toList()) {
            sb.append(String.format(Locale.ROOT, "CPU%-8d", cpu));
        }
        sb.append('\n');
        List<Irq> sorted = new ArrayList<>(irqList);
        sorted.sort((a, b) -> Integer.compare(a.number, b.number));
        for (Irq irq : sorted) {
            sb.append(String.format(Locale.ROOT, "%" + prec + "d:", irq.number));
            for (int cpu : online.toList()) {
                sb.append(String.format(Locale.ROOT, " %10d", irq.counts[cpu]));
            }
            sb.append(' ');
            sb.append(String.format(Locale.ROOT, " %8s", irq.chip));
            sb.append(String.format(Locale.ROOT, " %" + prec + "d", irq.hwirq));
            sb.append(String.format(Locale.ROOT, "-%-8s", irq.handler));
            sb.append("  ").append(irq.action).append('\n');
        }
        String[][] arch = {
            {"NMI", "Non-maskable interrupts", "40"}, {"LOC", "Local timer interrupts", "5000000"},
            {"SPU", "Spurious interrupts", "0"}, {"PMI", "Performance monitoring interrupts", "40"},
            {"IWI", "IRQ work interrupts", "3000"}, {"RTR", "APIC ICR read retries", "0"},
            {"RES", "Rescheduling interrupts", "400000"}, {"CAL", "Function call interrupts", "200000"},
            {"TLB", "TLB shootdowns", "50000"}, {"TRM", "Thermal event interrupts", "0"},
            {"THR", "Threshold APIC interrupts", "0"}, {"DFR", "Deferred Error APIC interrupts", "0"},
            {"MCE", "Machine check exceptions", "0"}, {"MCP", "Machine check polls", "60"}};
        for (String[] row : arch) {
            sb.append(String.format(Locale.ROOT, "%" + prec + "s:", row[0]));
            int scale = Integer.parseInt(row[2]);
            for (int cpu : online.toList()) {
                sb.append(String.format(Locale.ROOT, " %10d", scale == 0 ? 0 : scale / 2 + rnd.nextInt(scale)));
            }
            sb.append("   ").append(row[1]).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%" + prec + "s: %10d\n", "ERR", 0));
        sb.append(String.format(Locale.ROOT, "%" + prec + "s: %10d\n", "MIS", 0));
        String[][] kvm = {{"PIN", "Posted-interrupt notification event"}, {"NPI", "Nested posted-interrupt event"},
            {"PIW", "Posted-interrupt wakeup event"}};
        for (String[] row : kvm) {
            sb.append(String.format(Locale.ROOT, "%" + prec + "s:", row[0]));
            for (int i = 0; i < online.size(); i++) {
                sb.append(String.format(Locale.ROOT, " %10d", 0));
            }
            sb.append("   ").append(row[1]).append('\n');
        }
        put("proc/interrupts", sb.toString());

        StringBuilder so = new StringBuilder("                    ");
        for (int cpu = 0; cpu < spec.cpus(); cpu++) {
            so.append(String.format(Locale.ROOT, "CPU%-8d", cpu));
        }
        so.append('\n');
        String[] names = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"};
        int[] scales = {10, 400000, 50, 20000, 30000, 0, 2000, 300000, 100, 250000};
        for (int i = 0; i < names.length; i++) {
            so.append(String.format(Locale.ROOT, "%12s:", names[i]));
            for (int cpu = 0; cpu < spec.cpus(); cpu++) {
                long v = !online.contains(cpu) || scales[i] == 0 ? 0 : scales[i] / 2 + rnd.nextInt(scales[i]);
                so.append(String.format(Locale.ROOT, " %10d", v));
            }
            so.append('\n');
        }
        put("proc/softirqs", so.toString());
    }

    private void irqDir(int n, CpuSet affinity, CpuSet effective) {
        String d = "proc/irq/" + n + "/";
        put(d + "smp_affinity", mask(affinity));
        put(d + "smp_affinity_list", list(affinity));
        put(d + "effective_affinity", mask(effective));
        put(d + "effective_affinity_list", list(effective));
        put(d + "node", "0\n");
    }

    // irq_data state bits (include/linux/irq.h), in the order kernel/irq/debugfs.c prints them
    private static final Object[][] IRQD = {
        {0x1L, "IRQ_TYPE_EDGE_RISING"}, {0x4L, "IRQ_TYPE_LEVEL_HIGH"},
        {1L << 13, "IRQD_LEVEL"}, {1L << 9, "IRQD_ACTIVATED"}, {1L << 22, "IRQD_IRQ_STARTED"},
        {1L << 24, "IRQD_SINGLE_TARGET"}, {1L << 15, "IRQD_MOVE_PCNTXT"}, {1L << 12, "IRQD_AFFINITY_SET"},
        {1L << 21, "IRQD_AFFINITY_MANAGED"}, {1L << 28, "IRQD_AFFINITY_ON_ACTIVATE"},
        {1L << 23, "IRQD_MANAGED_SHUTDOWN"}, {1L << 26, "IRQD_CAN_RESERVE"},
        {1L << 25, "IRQD_DEFAULT_TRIGGER_SET"}, {1L << 27, "IRQD_HANDLE_ENFORCE_IRQCTX"}};

    private String debugIrq(Irq irq) {
        List<String> set = new ArrayList<>();
        set.add(irq.level ? "IRQ_TYPE_LEVEL_HIGH" : "IRQ_TYPE_EDGE_RISING");
        if (irq.level) {
            set.add("IRQD_LEVEL");
        }
        set.add("IRQD_ACTIVATED");
        if (irq.effective.isEmpty()) {
            set.add("IRQD_MANAGED_SHUTDOWN");
        } else {
            set.add("IRQD_IRQ_STARTED");
        }
        set.add("IRQD_SINGLE_TARGET");
        if (irq.managed) {
            set.add("IRQD_AFFINITY_MANAGED");
            set.add("IRQD_AFFINITY_ON_ACTIVATE");
        } else {
            set.add("IRQD_AFFINITY_SET");
            set.add("IRQD_CAN_RESERVE");
            set.add("IRQD_MOVE_PCNTXT");
        }
        set.add("IRQD_DEFAULT_TRIGGER_SET");
        if (irq.device != null) {
            set.add("IRQD_HANDLE_ENFORCE_IRQCTX");
        }
        long bits = 0;
        StringBuilder names = new StringBuilder();
        for (Object[] d : IRQD) {
            if (set.contains((String) d[1])) {
                bits |= (Long) d[0];
                names.append(" ".repeat(12)).append(d[1]).append('\n');
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("handler:  handle_").append(irq.handler).append("_irq\n");
        if (irq.device != null) {
            sb.append("device:   ").append(irq.device).append('\n');
        }
        sb.append("status:   0x00000000\n");
        sb.append("istate:   0x00000000\n");
        sb.append("ddepth:   ").append(irq.effective.isEmpty() ? 1 : 0).append('\n');
        sb.append("wdepth:   0\n");
        sb.append(String.format(Locale.ROOT, "dstate:   0x%08x\n", bits)).append(names);
        sb.append("node:     0\n");
        sb.append("affinity: ").append(irq.affinity).append('\n');
        sb.append("effectiv: ").append(irq.effective).append('\n');
        sb.append("pending:  \n");
        sb.append("domain:  ").append(irq.chip).append('\n');
        sb.append(String.format(Locale.ROOT, " hwirq:   0x%x\n", irq.hwirq));
        sb.append(" chip:    ").append(irq.chip).append('\n');
        return sb.toString();
    }

    // ---- workqueues ----------------------------------------------------------------------

    private void workqueues() {
        String base = "sys/devices/virtual/workqueue/";
        put(base + "cpumask", mask(unboundWq));
        for (String wq : List.of("writeback", "blkcg_punt_bio")) {
            put(base + wq + "/cpumask", mask(unboundWq));
            put(base + wq + "/nice", "0\n");
            put(base + wq + "/per_cpu", "0\n");
            put(base + wq + "/max_active", "256\n");
            put(base + wq + "/affinity_scope", "default (cache)\n");
            put(base + wq + "/affinity_strict", "0\n");
        }
    }

    // ---- tasks ---------------------------------------------------------------------------

    /** One thread: everything its stat, status and schedstat print. */
    private static final class Task {
        int tid;
        String comm;
        char state = 'S';
        long flags;
        int nice;
        int policy;
        int rtPrio;
        long start;
        CpuSet allowed;
        int processor;
        long utime;
        long stime;
        long voluntary;
        long involuntary;
    }

    private static final class Proc {
        int pid;
        int ppid;
        boolean kernel;
        int uid;
        String cmdline = "";
        String cgroup = "";
        long vsizeKb;
        long rssPages;
        final List<Task> threads = new ArrayList<>();

        Task main() {
            return threads.get(0);
        }
    }

    private int nextPid = 1;

    private Proc newProc(boolean kernel, String comm, long flags, CpuSet allowed, long start) {
        Proc p = new Proc();
        p.pid = nextPid++;
        p.kernel = kernel;
        p.ppid = kernel ? (p.pid == 2 ? 0 : 2) : 1;
        p.threads.add(newTask(p.pid, comm, flags, allowed, start));
        procs.add(p);
        return p;
    }

    private Task newTask(int tid, String comm, long flags, CpuSet allowed, long start) {
        Task t = new Task();
        t.tid = tid;
        t.comm = comm.length() > 15 ? comm.substring(0, 15) : comm;
        t.flags = flags;
        t.allowed = allowed;
        t.start = start;
        List<Integer> cpus = allowed.intersection(online).toList();
        t.processor = cpus.isEmpty() ? allowed.first() : cpus.get(rnd.nextInt(cpus.size()));
        t.utime = rnd.nextInt(200);
        t.stime = rnd.nextInt(300);
        t.voluntary = rnd.nextInt(50_000);
        t.involuntary = rnd.nextInt(500);
        return t;
    }

    private Task addThread(Proc p, String comm, long start) {
        Task t = newTask(nextPid++, comm, (p.main().flags & ~PF_SUPERPRIV) | PF_FORKNOEXEC, p.main().allowed, start);
        p.threads.add(t);
        return t;
    }

    private Proc kthread(String comm, long flags, CpuSet allowed) {
        Proc p = newProc(true, comm, flags, allowed, rnd.nextInt(3));
        if ((flags & PF_WQ_WORKER) != 0) {
            p.main().state = 'I';
        }
        p.main().utime = 0;
        return p;
    }

    private void perCpuKthreads(int cpu) {
        boolean up = online.contains(cpu);
        CpuSet me = CpuSet.of(cpu);
        Proc cpuhp = kthread("cpuhp/" + cpu, PERCPU_KTHREAD_FLAGS, me);
        Proc migration = kthread("migration/" + cpu, PERCPU_KTHREAD_FLAGS, me);
        migration.main().policy = 1; // SCHED_FIFO
        migration.main().rtPrio = 99;
        Proc softirq = kthread("ksoftirqd/" + cpu, PERCPU_KTHREAD_FLAGS, me);
        if (!up) {
            for (Proc p : List.of(cpuhp, migration, softirq)) {
                p.main().state = 'P';
            }
            return;
        }
        kthread("kworker/" + cpu + ":0", KWORKER_FLAGS, me);
        kthread("kworker/" + cpu + ":0H", KWORKER_FLAGS, me).main().nice = -20;
    }

    private void buildTasks() {
        Proc systemd = newProc(false, "systemd", PF_RANDOMIZE | PF_SUPERPRIV, userAffinity, 1);
        systemd.ppid = 0;
        systemd.cmdline = "/sbin/init\0";
        systemd.cgroup = "init.scope";
        systemd.vsizeKb = 22_000;
        systemd.rssPages = 3_500;
        Proc kthreadd = newProc(true, "kthreadd", KTHREAD_FLAGS, kthreadAffinity, 1);
        kthreadd.ppid = 0;
        String unbound = "kworker/u" + (2 * spec.cpus()) + ":";
        for (String name : List.of("pool_workqueue_release", "kworker/R-rcu_gp", "kworker/R-sync_wq",
                "kworker/R-slub_flushwq", "kworker/R-netns")) {
            kthread(name, name.startsWith("kworker") ? KWORKER_FLAGS : KTHREAD_FLAGS, kthreadAffinity);
        }
        kthread(unbound + "0", KWORKER_FLAGS, unboundWq);
        kthread("rcu_tasks_kthread", KTHREAD_FLAGS, kthreadAffinity);
        kthread("rcu_preempt", KTHREAD_FLAGS, kthreadAffinity);
        for (int cpu = 0; cpu < spec.cpus(); cpu++) {
            perCpuKthreads(cpu);
        }
        for (String name : List.of("kdevtmpfs", "kworker/R-inet_frag_wq", "kauditd", "khungtaskd", "oom_reaper",
                "kworker/R-writeback", "kcompactd0", "ksmd", "khugepaged", "kworker/R-kblockd", "kworker/R-blkcg_punt_bio",
                "watchdogd", "kworker/R-nvme-wq", "kswapd0", "kworker/R-kthrotld")) {
            kthread(name, name.startsWith("kworker") ? KWORKER_FLAGS : KTHREAD_FLAGS, kthreadAffinity);
        }
        for (int i = 1; i <= Math.min(8, Math.max(2, spec.cpus() / 4)); i++) {
            kthread(unbound + i, KWORKER_FLAGS, unboundWq);
        }

        nextPid = Math.max(nextPid + 50, 300);
        daemon("systemd-journald", "/usr/lib/systemd/systemd-journald", "system.slice/systemd-journald.service", 0);
        daemon("systemd-udevd", "/usr/lib/systemd/systemd-udevd", "system.slice/systemd-udevd.service", 0);
        daemon("systemd-logind", "/usr/lib/systemd/systemd-logind", "system.slice/systemd-logind.service", 0);
        daemon("dbus-daemon", "/usr/bin/dbus-daemon\0--system\0--address=systemd:\0--nofork\0--nopidfile\0"
                + "--systemd-activation\0--syslog-only", "system.slice/dbus.service", 81);
        if (spec.irqbalance()) {
            daemon("irqbalance", "/usr/bin/irqbalance\0--foreground", "system.slice/irqbalance.service", 0, "gmain");
        }
        Proc libvirtd = daemon("libvirtd", "/usr/bin/libvirtd\0--timeout\0120", "system.slice/libvirtd.service", 0,
                "rpc-worker", "rpc-worker", "rpc-worker", "rpc-worker", "rpc-worker", "prio-rpc-worker", "gmain",
                "gdbus", "udev-event");
        String[][] pool = {
            {"NetworkManager", "/usr/bin/NetworkManager\0--no-daemon", "system.slice/NetworkManager.service", "0", "gmain,gdbus"},
            {"polkitd", "/usr/lib/polkit-1/polkitd\0--no-debug", "system.slice/polkit.service", "102", "gmain,gdbus,JS GC Helper"},
            {"sshd", "sshd: /usr/bin/sshd -D [listener] 0 of 10-100 startups", "system.slice/sshd.service", "0", ""},
            {"virtlogd", "/usr/bin/virtlogd", "system.slice/virtlogd.service", "0", ""},
            {"chronyd", "/usr/bin/chronyd\0-n", "system.slice/chronyd.service", "976", ""},
            {"systemd", "/usr/lib/systemd/systemd\0--user", "user.slice/user-1000.slice/user@1000.service", "1000", ""},
            {"pipewire", "/usr/bin/pipewire", "user.slice/user-1000.slice/user@1000.service", "1000", "pipewire,data-loop.0"},
            {"wireplumber", "/usr/bin/wireplumber", "user.slice/user-1000.slice/user@1000.service", "1000", "gmain,gdbus,wireplumber:disk$0,pw-data-loop"},
            {"kwin_wayland", "/usr/bin/kwin_wayland\0--wayland-fd\07\0--socket\0wayland-0", "user.slice/user-1000.slice/session-2.scope", "1000", "kwin_wayla:cs0,QDBusConnection,Qt bearer threa,kwin_wayla:sh0"},
            {"plasmashell", "/usr/bin/plasmashell\0--no-respawn", "user.slice/user-1000.slice/session-2.scope", "1000", "QDBusConnection,QXcbEventQueue,plasmashel:cs0,QQmlThread"},
            {"firefox", "/usr/lib/firefox/firefox", "user.slice/user-1000.slice/session-2.scope", "1000", "gmain,gdbus,IPC I/O Parent,Socket Thread,Timer,Renderer,StyleThread#0,DOM Worker"},
            {"steam", "/home/gamer/.local/share/Steam/ubuntu12_32/steam\0-srt-logger-opened", "user.slice/user-1000.slice/session-2.scope", "1000", "steam,CIPCServer::Thr,CFileWriterThr,HTTPCookieSync"},
            {"bash", "-bash", "user.slice/user-1000.slice/session-2.scope", "1000", ""},
            {"virt-manager", "/usr/bin/python3\0/usr/bin/virt-manager", "user.slice/user-1000.slice/session-2.scope", "1000", "gmain,gdbus,dconf worker"},
            {"htop", "htop", "user.slice/user-1000.slice/session-2.scope", "1000", ""}};
        String[][] more = {
            {"Isolated Web Co", "/usr/lib/firefox/firefox\0-contentproc\0-isForBrowser\0tab", "user.slice/user-1000.slice/session-2.scope", "1000", "Socket Thread,JS Watchdog,DOM Worker,Timer"},
            {"bash", "/bin/bash", "user.slice/user-1000.slice/session-2.scope", "1000", ""},
            {"steamwebhelper", "./steamwebhelper\0-lang=en_US", "user.slice/user-1000.slice/session-2.scope", "1000", "Chrome_ChildIOT,ThreadPoolForeg,ThreadPoolForeg"}};
        // with spec.tasks(), processes are added until the host has exactly that many tasks (QEMU's come last)
        int qemuTasks = spec.vm() == null ? 0 : 6 + spec.iothreads() + spec.vcpus();
        for (int i = 0; spec.tasks() > 0 ? taskCount() + qemuTasks < spec.tasks() : i < spec.processes(); i++) {
            String[] e = i < pool.length ? pool[i] : more[(i - pool.length) % more.length];
            String[] threads = e[4].isEmpty() ? new String[0] : e[4].split(",");
            if (spec.threadsPerProcess() > 0) {
                threads = new String[spec.threadsPerProcess() - 1];
                Arrays.fill(threads, "worker");
            }
            if (spec.tasks() > 0) {
                int room = spec.tasks() - qemuTasks - taskCount();
                threads = Arrays.copyOf(threads, Math.min(threads.length, room - 1));
            }
            daemon(e[0], e[1], e[2], Integer.parseInt(e[3]), threads);
        }
        if (spec.vm() != null) {
            qemu(libvirtd);
        }
        if (spec.tasks() > 0 && taskCount() != spec.tasks()) {
            throw new IllegalArgumentException("tasks=" + spec.tasks() + " is below the " + taskCount()
                    + " tasks this host has without any ordinary process");
        }
    }

    private int taskCount() {
        int n = 0;
        for (Proc p : procs) {
            n += p.threads.size();
        }
        return n;
    }

    private Proc daemon(String comm, String cmdline, String cgroup, int uid, String... threads) {
        nextPid += rnd.nextInt(40);
        long start = 300 + nextPid / 2 + rnd.nextInt(200);
        Proc p = newProc(false, comm, uid == 0 ? PF_RANDOMIZE | PF_SUPERPRIV : PF_RANDOMIZE, userAffinity, start);
        p.uid = uid;
        p.cmdline = cmdline + "\0";
        p.cgroup = spec.cgroup().unified() ? cgroup : "";
        p.vsizeKb = 20_000 + rnd.nextInt(400_000);
        p.rssPages = 1_000 + rnd.nextInt(40_000);
        for (String t : threads) {
            addThread(p, t, start + rnd.nextInt(5));
        }
        return p;
    }

    private void qemu(Proc libvirtd) {
        nextPid += 1000 + rnd.nextInt(500);
        long start = bootTicks - 60_000 - rnd.nextInt(10_000);
        String vm = spec.vm();
        Proc q = newProc(false, "qemu-system-x86", PF_RANDOMIZE, userAffinity, start);
        q.ppid = 1; // libvirt daemonizes QEMU
        q.uid = 962;
        q.vsizeKb = 17_500_000;
        q.rssPages = 4_250_000;
        q.cgroup = "machine.slice/machine-qemu\\x2d1\\x2d" + vm.replace("-", "\\x2d") + ".scope";
        q.cmdline = String.join("\0", QEMU, "-name", "guest=" + vm + ",debug-threads=on", "-S",
                "-object", "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\",\"file\":\"/var/lib/libvirt/qemu/domain-1-" + vm + "/master-key.aes\"}",
                "-machine", "pc-q35-8.2,usb=off,vmport=off,smm=on,dump-guest-core=off,memory-backend=pc.ram,hpet=off,acpi=on",
                "-accel", "kvm",
                "-cpu", "host,migratable=on,topoext=on,hv-time=on,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,hv-vpindex=on,hv-synic=on,hv-stimer=on",
                "-m", "size=16777216k",
                "-object", "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\",\"size\":17179869184}",
                "-overcommit", "mem-lock=off",
                "-smp", spec.vcpus() + ",sockets=1,dies=1,cores=" + Math.max(1, spec.vcpus() / 2) + ",threads=" + (spec.vcpus() >= 2 ? 2 : 1),
                "-object", "{\"qom-type\":\"iothread\",\"id\":\"iothread1\"}",
                "-uuid", "5c1e4f1a-7f3e-4b9a-9d5e-2b6c0e8a4f11",
                "-no-user-config", "-nodefaults",
                "-chardev", "socket,id=charmonitor,fd=31,server=on,wait=off",
                "-mon", "chardev=charmonitor,id=monitor,mode=control",
                "-rtc", "base=localtime,driftfix=slew", "-no-shutdown",
                "-boot", "strict=on",
                "-blockdev", "{\"driver\":\"host_device\",\"filename\":\"/dev/nvme0n1p3\",\"aio\":\"native\",\"node-name\":\"libvirt-1-storage\",\"cache\":{\"direct\":true,\"no-flush\":false},\"auto-read-only\":true,\"discard\":\"unmap\"}",
                "-device", "{\"driver\":\"virtio-blk-pci\",\"iothread\":\"iothread1\",\"bus\":\"pci.4\",\"addr\":\"0x0\",\"drive\":\"libvirt-1-format\",\"id\":\"virtio-disk0\",\"bootindex\":1}",
                "-netdev", "{\"type\":\"tap\",\"fd\":\"33\",\"vhost\":true,\"vhostfd\":\"35\",\"id\":\"hostnet0\"}",
                "-device", "{\"driver\":\"virtio-net-pci\",\"netdev\":\"hostnet0\",\"id\":\"net0\",\"mac\":\"52:54:00:3b:9c:21\",\"bus\":\"pci.1\",\"addr\":\"0x0\"}",
                "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0000:0b:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.5\",\"addr\":\"0x0\"}",
                "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0000:0b:00.1\",\"id\":\"hostdev1\",\"bus\":\"pci.6\",\"addr\":\"0x0\"}",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                "-msg", "timestamp=on") + "\0";
        addThread(q, "call_rcu", start);
        addThread(q, "IO mon_iothread", start);
        for (int i = 1; i <= spec.iothreads(); i++) {
            addThread(q, "IO iothread" + i, start + 1);
        }
        Task vhost = addThread(q, "vhost-" + q.pid, start + 2);
        vhost.flags |= PF_USER_WORKER;
        for (int i = 0; i < spec.vcpus(); i++) {
            Task vcpu = addThread(q, "CPU " + i + "/KVM", start + 3);
            vcpu.state = rnd.nextInt(3) == 0 ? 'R' : 'S';
            vcpu.utime = 10_000 + rnd.nextInt(40_000);
            vcpu.involuntary = 10_000 + rnd.nextInt(100_000);
        }
        addThread(q, "worker", bootTicks - 100 - rnd.nextInt(1000));
        addThread(q, "worker", bootTicks - 50 - rnd.nextInt(40));
        put("run/libvirt/qemu/" + vm + ".pid", q.pid + "\n");
        if (libvirtd == null) {
            throw new IllegalStateException("libvirtd must run before its VM");
        }
    }

    private void taskFiles() {
        for (Proc p : procs) {
            String d = "proc/" + p.pid + "/";
            Task main = p.main();
            long utime = 0;
            long stime = 0;
            for (Task t : p.threads) {
                utime += t.utime;
                stime += t.stime;
            }
            put(d + "comm", main.comm + "\n");
            put(d + "cmdline", p.cmdline);
            put(d + "stat", stat(p, main, utime, stime, true));
            put(d + "status", status(p, main));
            for (Task t : p.threads) {
                String td = d + "task/" + t.tid + "/";
                put(td + "comm", t.comm + "\n");
                put(td + "stat", stat(p, t, t.utime, t.stime, t.tid == p.pid));
                put(td + "status", status(p, t));
                long run = (t.utime + t.stime) * (1_000_000_000L / USER_HZ) + rnd.nextInt(1_000_000);
                put(td + "schedstat", run + " " + (run / 20 + rnd.nextInt(1_000_000)) + " "
                        + (t.voluntary + t.involuntary) + "\n");
            }
        }
    }

    /** /proc/PID/stat: 52 fields, comm in parentheses (field 2), flags field 9, starttime field 22. */
    private String stat(Proc p, Task t, long utime, long stime, boolean leader) {
        boolean k = p.kernel;
        int priority = t.policy != 0 ? -1 - t.rtPrio : 20 + t.nice;
        int pgrp = k ? 0 : p.pid;
        long vsize = k ? 0 : p.vsizeKb * 1024;
        long[] mem = k ? new long[] {1, 1, 0} : new long[] {0x55d4c8a00000L, 0x55d4c8a9f000L, 0x7ffd3a8c1e30L};
        String[] f = {
            Integer.toString(t.tid), "(" + t.comm + ")", Character.toString(t.state), Integer.toString(p.ppid),
            Integer.toString(pgrp), Integer.toString(pgrp), "0", "-1", Long.toString(t.flags),
            Long.toString(k ? 0 : 1000 + t.voluntary), "0", Long.toString(k ? 0 : t.voluntary % 97), "0",
            Long.toString(utime), Long.toString(stime), "0", "0",
            Integer.toString(priority), Integer.toString(t.policy != 0 ? 0 : t.nice), Integer.toString(p.threads.size()),
            "0", Long.toString(t.start), Long.toString(vsize), Long.toString(k ? 0 : p.rssPages),
            "18446744073709551615", Long.toString(mem[0]), Long.toString(mem[1]), Long.toString(mem[2]), "0", "0",
            "0", "0", k ? "2147483647" : "4096", k ? "0" : "16386", "1", "0", "0",
            leader ? "17" : "-1", Integer.toString(t.processor), Integer.toString(t.rtPrio), Integer.toString(t.policy),
            "0", "0", "0",
            k ? "0" : "94388147372032", k ? "0" : "94388147447808", k ? "0" : "94388175482880",
            k ? "0" : "140726588116763", k ? "0" : "140726588116800", k ? "0" : "140726588116800",
            k ? "0" : "140726588117976", "0"};
        if (f.length != 52) {
            throw new IllegalStateException("stat has " + f.length + " fields");
        }
        return String.join(" ", f) + "\n";
    }

    private String status(Proc p, Task t) {
        boolean k = p.kernel;
        String uid = Integer.toString(p.uid);
        String state = switch (t.state) {
            case 'R' -> "R (running)";
            case 'I' -> "I (idle)";
            case 'P' -> "P (parked)";
            case 'D' -> "D (disk sleep)";
            default -> "S (sleeping)";
        };
        StringBuilder sb = new StringBuilder();
        sb.append("Name:\t").append(t.comm).append('\n');
        sb.append("Umask:\t").append(k ? "0000" : "0022").append('\n');
        sb.append("State:\t").append(state).append('\n');
        sb.append("Tgid:\t").append(p.pid).append('\n');
        sb.append("Ngid:\t0\n");
        sb.append("Pid:\t").append(t.tid).append('\n');
        sb.append("PPid:\t").append(p.ppid).append('\n');
        sb.append("TracerPid:\t0\n");
        sb.append("Uid:\t").append(uid).append('\t').append(uid).append('\t').append(uid).append('\t').append(uid).append('\n');
        sb.append("Gid:\t").append(uid).append('\t').append(uid).append('\t').append(uid).append('\t').append(uid).append('\n');
        sb.append("FDSize:\t").append(k ? 64 : 128).append('\n');
        sb.append("Groups:\t").append(p.uid == 1000 ? "998 1000" : "").append(" \n");
        sb.append("NStgid:\t").append(p.pid).append('\n');
        sb.append("NSpid:\t").append(t.tid).append('\n');
        sb.append("NSpgid:\t").append(k ? 0 : p.pid).append('\n');
        sb.append("NSsid:\t").append(k ? 0 : p.pid).append('\n');
        sb.append("Kthread:\t").append(k ? 1 : 0).append('\n');
        if (!k) {
            long rssKb = p.rssPages * 4;
            sb.append(String.format(Locale.ROOT, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmLck:\t%8d kB\nVmPin:\t%8d kB\n"
                    + "VmHWM:\t%8d kB\nVmRSS:\t%8d kB\nRssAnon:\t%8d kB\nRssFile:\t%8d kB\nRssShmem:\t%8d kB\n"
                    + "VmData:\t%8d kB\nVmStk:\t%8d kB\nVmExe:\t%8d kB\nVmLib:\t%8d kB\nVmPTE:\t%8d kB\nVmSwap:\t%8d kB\n"
                    + "HugetlbPages:\t%8d kB\n",
                    p.vsizeKb + 1024, p.vsizeKb, 0, 0, rssKb + 512, rssKb, rssKb * 3 / 4, rssKb / 4, 0,
                    p.vsizeKb / 3, 132, 640, 9000, Math.max(48, p.vsizeKb / 500), 0, 0));
            sb.append("CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n");
        }
        sb.append("Threads:\t").append(p.threads.size()).append('\n');
        sb.append("SigQ:\t0/127431\n");
        sb.append("SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n");
        sb.append("SigIgn:\t").append(k ? "ffffffffffffffff" : "0000000000001000").append('\n');
        sb.append("SigCgt:\t").append(k ? "0000000000000000" : "0000000100004a02").append('\n');
        String caps = p.uid == 0 ? "000001ffffffffff" : "0000000000000000";
        sb.append("CapInh:\t0000000000000000\nCapPrm:\t").append(caps).append("\nCapEff:\t").append(caps)
                .append("\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n");
        sb.append("NoNewPrivs:\t0\nSeccomp:\t").append(p.threads.get(0).comm.startsWith("qemu") ? 2 : 0)
                .append("\nSeccomp_filters:\t").append(p.threads.get(0).comm.startsWith("qemu") ? 1 : 0).append('\n');
        sb.append("Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n");
        sb.append("Cpus_allowed:\t").append(t.allowed.toMask(spec.cpus())).append('\n');
        sb.append("Cpus_allowed_list:\t").append(t.allowed).append('\n');
        sb.append("Mems_allowed:\t").append(allNodes().toMask(MAX_NUMNODES)).append('\n');
        sb.append("Mems_allowed_list:\t").append(allNodes()).append('\n');
        sb.append("voluntary_ctxt_switches:\t").append(t.voluntary).append('\n');
        sb.append("nonvoluntary_ctxt_switches:\t").append(t.involuntary).append('\n');
        return sb.toString();
    }

    // ---- cgroups -------------------------------------------------------------------------

    private void cgroups() {
        Map<String, List<Proc>> byGroup = new TreeMap<>();
        for (Proc p : procs) {
            byGroup.computeIfAbsent(p.cgroup, x -> new ArrayList<>()).add(p);
        }
        if (spec.cgroup().unified()) {
            cgroupV2(byGroup);
        } else {
            cgroupV1(byGroup);
        }
        if (spec.cgroup() == HostSpec.Cgroup.SYSTEMD) {
            // systemd runs (sd_booted: the directory exists); it holds the transient units of the session
            put("run/systemd/system/session-2.scope", "# This is a transient unit file, created programmatically via the"
                    + " systemd API. Do not edit.\n[Scope]\nSlice=user-1000.slice\n\n[Unit]\nDescription=Session 2 of"
                    + " User gamer\nWants=user-runtime-dir@1000.service\nWants=user@1000.service\n"
                    + "After=systemd-logind.service\nAfter=systemd-user-sessions.service\nAfter=user-runtime-dir@1000.service\n"
                    + "After=user@1000.service\nRequiresMountsFor=/home/gamer\n\n[Scope]\nSendSIGHUP=yes\nTasksMax=infinity\n");
        }
    }

    private static String ids(List<Integer> ids) {
        StringBuilder sb = new StringBuilder();
        ids.stream().sorted().forEach(i -> sb.append(i).append('\n'));
        return sb.toString();
    }

    private static List<Integer> pids(List<Proc> ps) {
        List<Integer> out = new ArrayList<>();
        if (ps != null) {
            ps.forEach(p -> out.add(p.pid));
        }
        return out;
    }

    private static List<Integer> tids(List<Proc> ps) {
        List<Integer> out = new ArrayList<>();
        if (ps != null) {
            ps.forEach(p -> p.threads.forEach(t -> out.add(t.tid)));
        }
        return out;
    }

    private void cgroupV2(Map<String, List<Proc>> byGroup) {
        String root = "sys/fs/cgroup/";
        String rootControl = spec.cpusetController() ? "cpuset cpu io memory pids" : "cpu io memory pids";
        put(root + "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(root + "cgroup.subtree_control", rootControl + "\n");
        put(root + "cgroup.procs", ids(pids(byGroup.get(""))));
        put(root + "cpuset.cpus.effective", list(online));
        put(root + "cpuset.mems.effective", list(allNodes()));
        put(root + "cpuset.cpus.isolated", "\n");

        // cpuset.cpus.partition came with Linux 5.0
        boolean partitions = KernelRelease.parse(spec.kernelRelease()).map(k -> k.atLeast(5, 0)).orElse(true);
        // every cgroup between the root and the leaves that hold processes, with what its parent enables
        Map<String, String> subtree = new TreeMap<>();
        subtree.put("system.slice", "memory pids");
        subtree.put("user.slice", "memory pids");
        subtree.put("init.scope", "");
        subtree.put("machine.slice", rootControl);
        for (String g : byGroup.keySet()) {
            for (int i = g.indexOf('/'); i > 0; i = g.indexOf('/', i + 1)) {
                subtree.putIfAbsent(g.substring(0, i), "memory pids");
            }
            if (!g.isEmpty()) {
                subtree.putIfAbsent(g, "");
            }
        }
        for (Map.Entry<String, String> e : subtree.entrySet()) {
            String g = e.getKey();
            String parent = g.contains("/") ? g.substring(0, g.lastIndexOf('/')) : "";
            String parentControl = parent.isEmpty() ? rootControl : subtree.get(parent);
            String d = root + g + "/";
            put(d + "cgroup.controllers", parentControl + "\n");
            put(d + "cgroup.subtree_control", e.getValue() + "\n");
            put(d + "cgroup.procs", ids(pids(byGroup.get(g))));
            if (parentControl.contains("cpuset")) {
                put(d + "cpuset.cpus", "\n");
                put(d + "cpuset.cpus.effective", list(online));
                put(d + "cpuset.mems", "\n");
                put(d + "cpuset.mems.effective", list(allNodes()));
                if (partitions) {
                    put(d + "cpuset.cpus.partition", "member\n");
                }
            }
        }
    }

    private void cgroupV1(Map<String, List<Proc>> byGroup) {
        // on v1 only libvirt uses the cpuset hierarchy: everything but QEMU is in its root
        String root = "sys/fs/cgroup/cpuset/";
        List<Proc> rootProcs = new ArrayList<>();
        List<Proc> vmProcs = new ArrayList<>();
        for (Proc p : procs) {
            (p.cgroup.startsWith("machine.slice/") ? vmProcs : rootProcs).add(p);
        }
        String nodes = list(allNodes());
        put(root + "cgroup.procs", ids(pids(rootProcs)));
        put(root + "tasks", ids(tids(rootProcs)));
        put(root + "cpuset.cpus", list(online));
        put(root + "cpuset.mems", nodes);
        put(root + "cpuset.effective_cpus", list(online));
        put(root + "cpuset.effective_mems", nodes);
        put(root + "cpuset.cpu_exclusive", "1\n");
        put(root + "cpuset.mem_exclusive", "1\n");
        put(root + "cpuset.mem_hardwall", "0\n");
        put(root + "cpuset.memory_migrate", "0\n");
        put(root + "cpuset.memory_pressure", "0\n");
        put(root + "cpuset.memory_pressure_enabled", "0\n");
        put(root + "cpuset.memory_spread_page", "0\n");
        put(root + "cpuset.memory_spread_slab", "0\n");
        put(root + "cpuset.sched_load_balance", "1\n");
        put(root + "cpuset.sched_relax_domain_level", "-1\n");
        put(root + "cgroup.clone_children", "0\n");
        put(root + "cgroup.sane_behavior", "0\n");
        put(root + "notify_on_release", "0\n");
        put(root + "release_agent", "\n");
        List<String> children = new ArrayList<>(List.of("machine.slice"));
        if (!vmProcs.isEmpty()) {
            children.add(vmProcs.get(0).cgroup);
        }
        for (String g : children) {
            String d = root + g + "/";
            List<Proc> in = g.equals("machine.slice") ? List.of() : vmProcs;
            put(d + "cgroup.procs", ids(pids(in)));
            put(d + "tasks", ids(tids(in)));
            put(d + "cpuset.cpus", list(online));
            put(d + "cpuset.mems", nodes);
            put(d + "cpuset.effective_cpus", list(online));
            put(d + "cpuset.effective_mems", nodes);
            put(d + "cpuset.cpu_exclusive", "0\n");
            put(d + "cpuset.mem_exclusive", "0\n");
            put(d + "cpuset.mem_hardwall", "0\n");
            put(d + "cpuset.memory_migrate", "1\n");
            put(d + "cpuset.memory_pressure", "0\n");
            put(d + "cpuset.memory_spread_page", "0\n");
            put(d + "cpuset.memory_spread_slab", "0\n");
            put(d + "cpuset.sched_load_balance", "1\n");
            put(d + "cpuset.sched_relax_domain_level", "-1\n");
            put(d + "cgroup.clone_children", "0\n");
            put(d + "notify_on_release", "0\n");
        }
    }

    // ---- the rest ------------------------------------------------------------------------

    private void misc() {
        StringBuilder cmdline = new StringBuilder("BOOT_IMAGE=/vmlinuz-linux root=UUID=3f6c2d9e-8a41-4c57-b0e2-7d19a5c4e8b3 rw"
                + " loglevel=3 quiet amd_iommu=on iommu=pt vfio-pci.ids=1002:73bf,1002:ab28");
        if (!spec.isolcpus().isEmpty()) {
            cmdline.append(" isolcpus=managed_irq,domain,").append(spec.isolcpus());
        }
        if (spec.nohzFull() != null) {
            cmdline.append(" nohz_full=").append(spec.nohzFull()).append(" rcu_nocbs=").append(spec.nohzFull());
        }
        put("proc/cmdline", cmdline + "\n");
        String release = spec.kernelRelease();
        put("proc/version", "Linux version " + release + " (linux@archlinux) (gcc (GCC) 14.1.1 20240522, GNU ld (GNU Binutils) 2.42.0)"
                + " #1 SMP PREEMPT_DYNAMIC Fri, 28 Jun 2024 04:32:50 +0000\n");
        put("proc/sys/kernel/osrelease", release + "\n");
        put("proc/sys/kernel/random/boot_id", uuid() + "\n");
        long idle = bootTicks * online.size() * 9 / 10;
        put("proc/uptime", String.format(Locale.ROOT, "%d.%02d %d.%02d\n", bootTicks / USER_HZ, bootTicks % USER_HZ,
                idle / USER_HZ, idle % USER_HZ));

        StringBuilder m = new StringBuilder();
        m.append("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n");
        m.append("sys /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n");
        m.append("dev /dev devtmpfs rw,nosuid,relatime,size=32803812k,nr_inodes=8200953,mode=755,inode64 0 0\n");
        m.append("run /run tmpfs rw,nosuid,nodev,relatime,mode=755,inode64 0 0\n");
        m.append("/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n");
        m.append("securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0\n");
        if (spec.cgroup().unified()) {
            m.append("cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n");
        } else {
            m.append("tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,size=4096k,nr_inodes=1024,mode=755,inode64 0 0\n");
            m.append("cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n");
            m.append("cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0\n");
            m.append("cgroup /sys/fs/cgroup/cpuset cgroup rw,nosuid,nodev,noexec,relatime,cpuset 0 0\n");
            m.append("cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n");
            m.append("cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n");
        }
        m.append("debugfs /sys/kernel/debug debugfs rw,nosuid,nodev,noexec,relatime 0 0\n");
        m.append("tracefs /sys/kernel/tracing tracefs rw,nosuid,nodev,noexec,relatime 0 0\n");
        m.append("hugetlbfs /dev/hugepages hugetlbfs rw,nosuid,nodev,relatime,pagesize=2M 0 0\n");
        m.append("/dev/nvme0n1p1 /boot vfat rw,relatime,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro 0 0\n");
        put("proc/mounts", m.toString());

        if (spec.irqbalance()) {
            StringBuilder e = new StringBuilder();
            e.append("# irqbalance is a daemon process that distributes interrupts across\n");
            e.append("# CPUs on SMP systems. This file is read by irqbalance.service\n");
            e.append("# (EnvironmentFile=).\n#\n");
            e.append("# IRQBALANCE_ONESHOT\n#    After starting, wait for a minute, then look at the interrupt\n");
            e.append("#    load and balance it once; after balancing exit and do not change\n#    it again.\n#\n");
            e.append("#IRQBALANCE_ONESHOT=\n\n");
            e.append("# IRQBALANCE_BANNED_CPULIST\n#    The CPUs listed here will be ignored by irqbalance: no\n");
            e.append("#    interrupt is placed on them.\n#\n");
            if (spec.irqbalanceBanned() != null) {
                e.append("IRQBALANCE_BANNED_CPULIST=").append(spec.irqbalanceBanned()).append('\n');
            } else {
                e.append("#IRQBALANCE_BANNED_CPULIST=\n");
            }
            e.append("\n# IRQBALANCE_ARGS\n#    Append any args here to the irqbalance daemon as documented in the\n");
            e.append("#    man page.\n#\n#IRQBALANCE_ARGS=\n");
            put("etc/default/irqbalance", e.toString());
        }
    }

    private String uuid() {
        long hi = rnd.nextLong();
        long lo = rnd.nextLong();
        hi = (hi & ~0xf000L) | 0x4000L;
        lo = (lo & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new java.util.UUID(hi, lo).toString();
    }

    // ---- command line --------------------------------------------------------------------

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        HostSpec.Builder b = HostSpec.builder();
        Path dir = null;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "-h", "--help" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    case "--preset" -> {
                        String name = value(args, ++i, a);
                        if (!name.equals("gaming-rig")) {
                            throw new IllegalArgumentException("unknown preset " + name + "; known: gaming-rig");
                        }
                        b = HostSpec.gamingRig().toBuilder();
                    }
                    case "--out" -> dir = Path.of(value(args, ++i, a));
                    case "--cpus" -> b.cpus(number(args, ++i, a));
                    case "--smt" -> b.threadsPerCore(number(args, ++i, a));
                    case "--cpus-per-l3" -> b.cpusPerL3(number(args, ++i, a));
                    case "--numa-nodes" -> b.numaNodes(number(args, ++i, a));
                    case "--packages" -> b.packages(number(args, ++i, a));
                    case "--offline" -> b.offline(CpuSet.parseList(value(args, ++i, a)));
                    case "--irqs" -> b.irqs(number(args, ++i, a));
                    case "--nvme-queues" -> b.nvmeQueues(number(args, ++i, a));
                    case "--processes" -> b.processes(number(args, ++i, a));
                    case "--threads-per-process" -> b.threadsPerProcess(number(args, ++i, a));
                    case "--tasks" -> b.tasks(number(args, ++i, a));
                    case "--cgroup" -> b.cgroup(HostSpec.Cgroup.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT)));
                    case "--no-cpuset-controller" -> b.cpusetController(false);
                    case "--cpufreq" -> {
                        String driver = value(args, ++i, a);
                        b.cpufreq(driver, HostSpec.isSetPolicyDriver(driver) ? List.of("performance", "powersave")
                                : HostSpec.ACPI_CPUFREQ_GOVERNORS, HostSpec.isSetPolicyDriver(driver) ? "powersave" : "schedutil");
                    }
                    case "--governor" -> b.governor(value(args, ++i, a));
                    case "--no-cpufreq" -> b.noCpufreq();
                    case "--no-cpuidle" -> b.cpuidle(false);
                    case "--no-irqbalance" -> b.irqbalance(false, null);
                    case "--irqbalance-banned" -> b.irqbalance(true, CpuSet.parseList(value(args, ++i, a)));
                    case "--vm" -> b.vm(value(args, ++i, a), 8, 1);
                    case "--vcpus" -> {
                        HostSpec cur = b.build();
                        b.vm(cur.vm() == null ? "win11" : cur.vm(), number(args, ++i, a), cur.iothreads());
                    }
                    case "--no-vm" -> b.noVm();
                    case "--isolcpus" -> b.isolcpus(CpuSet.parseList(value(args, ++i, a)));
                    case "--nohz-full" -> b.nohzFull(CpuSet.parseList(value(args, ++i, a)));
                    case "--kernel" -> b.kernelRelease(value(args, ++i, a));
                    case "--seed" -> b.seed(Long.parseLong(value(args, ++i, a)));
                    default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
                }
            }
            if (dir == null) {
                throw new IllegalArgumentException("--out DIR is required");
            }
            HostSpec spec = b.build();
            int n = generate(spec, dir);
            out.println("wrote " + n + " files to " + dir);
            return 0;
        } catch (IllegalArgumentException | IOException e) {
            err.println("host-tree-generator: " + e.getMessage());
            return 2;
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int number(String[] args, int i, String option) {
        try {
            return Integer.parseInt(value(args, i, option));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, not " + args[i]);
        }
    }

    private static final String USAGE = """
            Usage: HostTreeGenerator --out DIR [options]
            Writes a synthetic Linux host tree (sys/, proc/, run/, etc/); same options, same bytes.
              --preset gaming-rig      start from the bundled example (then override)
              --cpus N                 possible CPUs (default 8)
              --smt 1|2                threads per core; with 2, CPUs n and n+cores are siblings
              --cpus-per-l3 N          CPUs sharing an L3 (default: a whole package)
              --numa-nodes N  --packages N
              --offline LIST           possible but offline CPUs, e.g. 6-7
              --irqs N                 rows in /proc/interrupts (default: minimal mix + 20)
              --nvme-queues N          managed queue IRQs of nvme0 (default: one per core)
              --processes N            ordinary processes  --threads-per-process N
              --tasks N                exactly N tasks (threads) in all: ordinary processes are added to reach it
              --cgroup v1|v2           --no-cpuset-controller (v2 root without cpuset)
              --cpufreq DRIVER  --governor G  --no-cpufreq  --no-cpuidle
              --no-irqbalance          --irqbalance-banned LIST
              --vm NAME  --vcpus N     --no-vm
              --isolcpus LIST  --nohz-full LIST  --kernel RELEASE  --seed N
            """;
}
