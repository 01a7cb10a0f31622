package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.domain.Sched;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;

/** Host-side settings the hook cannot change or that undo its work. */
final class HostChecks {
    private static final List<String> IRQBALANCE_CONFIGS = List.of("/etc/default/irqbalance", "/etc/sysconfig/irqbalance");

    private HostChecks() {
    }

    static void run(DoctorInput in, List<Finding> out) {
        HostFs fs = in.host();
        CpuSet vm = in.vmCpus();
        // with the VM on every CPU (a <vcpu cpuset> or pins that take them all) no split of the host is there to finish
        Optional<CpuSet> host = in.hostCpus().filter(h -> !h.isEmpty());
        if (!vm.isEmpty() && host.isPresent()) {
            cmdline(fs, vm, host.get(), out);
            irqbalance(fs, vm, out);
            managedIrqs(fs, vm, out);
        }
        power(fs, out);
        cgroups(fs, out);
        realTime(in, out);
    }

    /** Kernel parameters on /proc/cmdline; isolcpus may carry flags before the list ({@code isolcpus=domain,managed_irq,2-7}). */
    static Map<String, CpuSet> cpuParams(String cmdline) {
        Map<String, CpuSet> out = new LinkedHashMap<>();
        for (String tok : KernelText.words(cmdline)) {
            int eq = tok.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = tok.substring(0, eq);
            if (!List.of("isolcpus", "nohz_full", "rcu_nocbs", "irqaffinity").contains(key)) {
                continue;
            }
            String value = tok.substring(eq + 1);
            List<String> parts = new ArrayList<>();
            for (String p : value.split(",")) {
                if (!p.isEmpty() && Character.isDigit(p.charAt(0))) {
                    parts.add(p);
                }
            }
            try {
                out.put(key, CpuSet.parseList(String.join(",", parts)));
            } catch (CpuSetFormatException e) {
                // a value the kernel would reject too; reported as absent
            }
        }
        return out;
    }

    private static void cmdline(HostFs fs, CpuSet vm, CpuSet host, List<Finding> out) {
        Optional<String> text = fs.read("/proc/cmdline");
        if (text.isEmpty()) {
            return;
        }
        Map<String, CpuSet> p = cpuParams(text.get());
        String line = "nohz_full=" + vm + " rcu_nocbs=" + vm + " irqaffinity=" + host;
        String where = " to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then update-grub (or grub2-mkconfig -o"
                + " /boot/grub2/grub.cfg) and reboot";
        List<String> wrong = new ArrayList<>();
        for (String key : List.of("nohz_full", "rcu_nocbs")) {
            CpuSet set = p.get(key);
            if (set != null && !vm.isSubsetOf(set)) {
                wrong.add(key + "=" + set + " misses VM CPUs " + vm.difference(set));
            }
            if (set != null && set.intersects(host)) {
                wrong.add(key + "=" + set + " includes host CPUs " + set.intersection(host));
            }
        }
        CpuSet iso = p.get("isolcpus");
        if (iso != null && iso.intersects(host)) {
            wrong.add("isolcpus=" + iso + " takes host CPUs " + iso.intersection(host) + " away from the scheduler");
        }
        if (iso != null && !vm.isSubsetOf(iso)) {
            wrong.add("isolcpus=" + iso + " misses VM CPUs " + vm.difference(iso));
        }
        CpuSet irq = p.get("irqaffinity");
        if (irq != null && irq.intersects(vm)) {
            wrong.add("irqaffinity=" + irq + " sends IRQs to VM CPUs " + irq.intersection(vm));
        }
        if (!wrong.isEmpty()) {
            out.add(new Finding(Severity.WARNING, "host.cmdline-mismatch", "/proc/cmdline: " + String.join("; ", wrong),
                    "Boot-time isolation that disagrees with the profile either leaves the VM's CPUs noisy or starves the"
                            + " CPUs the host keeps.",
                    "use " + line + (iso != null ? " isolcpus=" + vm : "") + where));
        } else if (!p.containsKey("nohz_full") || !p.containsKey("rcu_nocbs") || !p.containsKey("irqaffinity")) {
            List<String> missing = new ArrayList<>();
            for (String key : List.of("nohz_full", "rcu_nocbs", "irqaffinity")) {
                if (!p.containsKey(key)) {
                    missing.add(key);
                }
            }
            out.add(new Finding(Severity.INFO, "host.cmdline-missing", "/proc/cmdline has no " + String.join(", ", missing),
                    "The hook moves what it can at VM start, but only boot parameters stop the scheduler tick and RCU"
                            + " callbacks on the VM's CPUs and route early IRQs to the host's.",
                    "add: " + line + where + " (nohz_full needs a kernel built with CONFIG_NO_HZ_FULL)"));
        }
    }

    /** The files of /proc/irq/N that are not an action (a device's name for the IRQ). */
    private static final List<String> IRQ_FILES = List.of("affinity_hint", "effective_affinity", "effective_affinity_list",
            "node", "smp_affinity", "smp_affinity_list", "spurious");

    /**
     * Managed IRQs (a device's queues, spread over the CPUs by the kernel, which refuses to move
     * them: the hook logs them as unmovable) served on the VM's CPUs. Known from debugfs, which the
     * kernel shows to root where it is mounted (systemd mounts it); without it, nothing is said.
     */
    private static void managedIrqs(HostFs fs, CpuSet vm, List<Finding> out) {
        List<String> onVm = new ArrayList<>();
        for (String n : fs.list("/proc/irq")) {
            if (!KernelText.isNumber(n)
                    || !fs.read("/sys/kernel/debug/irq/irqs/" + n).orElse("").contains("IRQD_AFFINITY_MANAGED")) {
                continue;
            }
            String dir = "/proc/irq/" + n;
            Optional<String> served = fs.read(dir + "/effective_affinity_list").or(() -> fs.read(dir + "/smp_affinity_list"));
            try {
                CpuSet cpus = served.isEmpty() ? CpuSet.empty() : CpuSet.parseList(served.get());
                if (cpus.intersects(vm)) {
                    List<String> actions = fs.list(dir).stream().filter(a -> !IRQ_FILES.contains(a)).toList();
                    onVm.add("IRQ " + n + (actions.isEmpty() ? "" : " (" + String.join(", ", actions) + ")") + " on CPU "
                            + cpus.intersection(vm));
                }
            } catch (CpuSetFormatException e) {
                // an unreadable affinity: the hook's plan reports that IRQ itself
            }
        }
        if (onVm.isEmpty()) {
            return;
        }
        String evidence = "/sys/kernel/debug/irq/irqs: " + onVm.size() + " managed IRQ" + (onVm.size() == 1 ? "" : "s")
                + " served on the VM's CPUs: " + String.join("; ", onVm.stream().limit(5).toList())
                + (onVm.size() > 5 ? "; ..." : "");
        String cmdline = fs.read("/proc/cmdline").orElse("");
        boolean alreadyAsked = isolcpusFlags(cmdline).contains("managed_irq")
                && vm.isSubsetOf(cpuParams(cmdline).getOrDefault("isolcpus", CpuSet.empty()));
        if (alreadyAsked) {
            out.add(new Finding(Severity.INFO, "host.managed-irqs-on-vm-cpus", evidence,
                    "isolcpus=managed_irq keeps managed IRQs off the VM's CPUs only where the device has a queue for"
                            + " another CPU; these have none, so I/O the host issues from those CPUs still completes there.",
                    "nothing to change in the kernel; keep the host's I/O-heavy work on the host CPUs (the hook's"
                            + " cpusets do that for its processes)"));
            return;
        }
        out.add(new Finding(Severity.WARNING, "host.managed-irqs-on-vm-cpus", evidence,
                "The kernel keeps a managed IRQ where it put it and refuses the hook's move (logged as unmovable), so"
                        + " every completion on that queue interrupts the VM's CPU; under disk load that is thousands a"
                        + " second.",
                "add isolcpus=managed_irq," + vm + " to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then update-grub"
                        + " (or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot (kernel 5.6 or later: the kernel then"
                        + " serves those queues from the host's CPUs wherever the device allows)"));
    }

    /** The flags of isolcpus= (the words before its CPU list), e.g. [managed_irq, domain]. */
    static List<String> isolcpusFlags(String cmdline) {
        for (String tok : KernelText.words(cmdline)) {
            if (tok.startsWith("isolcpus=")) {
                return java.util.Arrays.stream(tok.substring("isolcpus=".length()).split(","))
                        .filter(p -> !p.isEmpty() && !Character.isDigit(p.charAt(0))).toList();
            }
        }
        return List.of();
    }

    private static void irqbalance(HostFs fs, CpuSet vm, List<Finding> out) {
        boolean running = false;
        for (String pid : fs.list("/proc")) {
            if (KernelText.isNumber(pid)
                    && fs.read("/proc/" + pid + "/comm").map(String::strip).orElse("").equals("irqbalance")) {
                running = true;
                break;
            }
        }
        if (!running) {
            return;
        }
        String config = IRQBALANCE_CONFIGS.stream().filter(fs::exists).findFirst().orElse(IRQBALANCE_CONFIGS.get(0));
        CpuSet banned = CpuSet.empty();
        String seen = "no IRQBALANCE_BANNED_CPULIST";
        for (String line : fs.read(config).orElse("").split("\n")) {
            String l = line.strip();
            if (l.startsWith("#")) {
                continue;
            }
            try {
                if (l.startsWith("IRQBALANCE_BANNED_CPULIST=")) {
                    seen = l;
                    banned = banned.union(CpuSet.parseList(unquote(l.substring(l.indexOf('=') + 1))));
                } else if (l.startsWith("IRQBALANCE_BANNED_CPUS=")) {
                    seen = l;
                    banned = banned.union(CpuSet.parseMask(unquote(l.substring(l.indexOf('=') + 1))));
                }
            } catch (CpuSetFormatException e) {
                seen = l + " (unreadable: " + e.getMessage() + ")";
            }
        }
        if (!vm.isSubsetOf(banned)) {
            out.add(new Finding(Severity.WARNING, "host.irqbalance-unbanned", "irqbalance is running; " + config + ": "
                    + seen,
                    "irqbalance moves IRQs back onto the VM's CPUs within seconds, undoing the hook's IRQ affinity.",
                    "IRQBALANCE_BANNED_CPULIST=" + vm.union(banned) + " in " + config
                            + ", then systemctl restart irqbalance"));
        }
    }

    private static String unquote(String s) {
        String t = s.strip();
        if (t.length() >= 2 && (t.startsWith("\"") && t.endsWith("\"") || t.startsWith("'") && t.endsWith("'"))) {
            t = t.substring(1, t.length() - 1);
        }
        return t;
    }

    private static void power(HostFs fs, List<Finding> out) {
        String cpu0 = "/sys/devices/system/cpu/cpu0";
        if (!fs.isDirectory(cpu0)) {
            return;
        }
        if (!fs.isDirectory(cpu0 + "/cpufreq")) {
            out.add(new Finding(Severity.INFO, "host.no-cpufreq", cpu0 + "/cpufreq: missing",
                    "Without cpufreq the hook cannot switch the governor to performance; the clock then follows the"
                            + " firmware's choice.",
                    "enable a cpufreq driver (intel_pstate, amd-pstate: amd_pstate=active on the kernel command line,"
                            + " or acpi-cpufreq) or set the firmware's power profile to performance; else governor: leave"
                            + " in the profile"));
        }
        if (!fs.isDirectory(cpu0 + "/cpuidle")) {
            out.add(new Finding(Severity.INFO, "host.no-cpuidle", cpu0 + "/cpuidle: missing",
                    "Without cpuidle the hook cannot keep the VM's CPUs out of deep C-states, whose exit latency shows as"
                            + " stutter.",
                    "cstates: method: pm_qos still works through /dev/cpu_dma_latency; else limit C-states in firmware"
                            + " or with intel_idle.max_cstate=1 / processor.max_cstate=1"));
        }
    }

    private static void cgroups(HostFs fs, List<Finding> out) {
        if (!fs.isDirectory("/sys/fs/cgroup")) {
            return;
        }
        Optional<String> controllers = fs.read("/sys/fs/cgroup/cgroup.controllers");
        if (controllers.isPresent()) {
            if (!KernelText.words(controllers.get()).contains("cpuset")) {
                out.add(new Finding(Severity.WARNING, "host.cgroup-no-cpuset", "/sys/fs/cgroup/cgroup.controllers: "
                        + controllers.get().strip(),
                        "Without the cpuset controller the hook cannot keep host tasks off the VM's CPUs while it runs.",
                        "boot with systemd.unified_cgroup_hierarchy=1 and without cgroup_no_v1 / cgroup_disable=cpuset, so"
                                + " no v1 hierarchy holds cpuset; or cgroups: mode: v1 in the profile"));
            }
        } else if (!fs.isDirectory("/sys/fs/cgroup/cpuset")) {
            out.add(new Finding(Severity.WARNING, "host.cgroup-no-cpuset", "/sys/fs/cgroup: neither cgroup v2"
                    + " (cgroup.controllers) nor a v1 cpuset hierarchy",
                    "Without a cpuset controller the hook cannot keep host tasks off the VM's CPUs while it runs.",
                    "mount cgroup v2 (systemd does by default) or a v1 cpuset hierarchy at /sys/fs/cgroup/cpuset"));
        }
    }

    private static void realTime(DoctorInput in, List<Finding> out) {
        List<Sched> rt = new ArrayList<>();
        in.domain().cputune().vcpusched().stream().filter(Sched::realTime).forEach(rt::add);
        in.domain().cputune().iothreadsched().stream().filter(Sched::realTime).forEach(rt::add);
        if (rt.isEmpty()) {
            return;
        }
        Sched s = rt.get(0);
        String xml = "<vcpusched vcpus='" + s.ids() + "' scheduler='" + s.scheduler() + "'"
                + (s.priority().isPresent() ? " priority='" + s.priority().getAsInt() + "'" : "") + "/>";
        String file = "/proc/sys/kernel/sched_rt_runtime_us";
        Optional<String> runtime = in.host().read(file).map(String::strip);
        if (runtime.isPresent() && runtime.get().equals("-1")) {
            out.add(new Finding(Severity.ERROR, "sched.rt-unthrottled", xml + "; " + file + " = -1",
                    "A real-time vCPU that spins (a guest busy-loop or a hang) now never yields, so per-CPU kernel"
                            + " threads on its CPU starve and the host can lock up.",
                    "sysctl -w kernel.sched_rt_runtime_us=950000 (and drop the -1 from /etc/sysctl.d/), or remove the"
                            + " <vcpusched> lines"));
        } else {
            out.add(new Finding(Severity.INFO, "sched.rt-vcpus", xml + runtime.map(r -> "; " + file + " = " + r).orElse(""),
                    "Real-time vCPUs get throttled for the rest of each period once they use sched_rt_runtime_us, a"
                            + " stall far longer than any scheduler latency, and they defeat nohz_full.",
                    "on isolated CPUs plain SCHED_OTHER is enough: remove the <vcpusched> lines"));
        }
    }
}
