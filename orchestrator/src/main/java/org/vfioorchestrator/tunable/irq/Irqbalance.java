package org.vfioorchestrator.tunable.irq;

import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.Tunable;

/**
 * irqbalance undoes manual IRQ affinity unless the VM's CPUs are banned for it: a check that changes nothing
 * and warns, last, with the line to add. Registered after every other unit so its warning comes last.
 */
public final class Irqbalance implements Tunable<Irqbalance.State> {
    public static final Irqbalance UNIT = new Irqbalance();

    /** Where systemd keeps irqbalance.service's processes: cgroup v2, and v1's name=systemd hierarchy. */
    static final List<String> IRQBALANCE_UNIT_PROCS = List.of(
            "/sys/fs/cgroup/system.slice/irqbalance.service/cgroup.procs",
            "/sys/fs/cgroup/systemd/system.slice/irqbalance.service/cgroup.procs");

    /** Whether irqbalance runs, the CPUs its configuration bans, and that file. */
    public record State(boolean running, CpuSet banned, String configFile) {
    }

    private Irqbalance() {
    }

    @Override
    public ChangeKind kind() {
        return Irqs.KIND;
    }

    @Override
    public State read(HostFs host, ReadScope scope) {
        boolean running = running(host);
        for (String file : List.of("/etc/default/irqbalance", "/etc/sysconfig/irqbalance")) {
            Optional<String> text = host.read(file);
            if (text.isPresent()) {
                return new State(running, bannedCpus(text.get()), file);
            }
        }
        return new State(running, CpuSet.empty(), "/etc/default/irqbalance");
    }

    /** Whether some /proc/PID/comm is irqbalance: its systemd unit's processes first, then every process. */
    private static boolean running(HostFs host) {
        for (String procs : IRQBALANCE_UNIT_PROCS) {
            for (String pid : host.read(procs).orElse("").split("\n")) {
                String p = pid.strip();
                if (KernelText.isNumber(p) && isIrqbalance(host, p)) {
                    return true;
                }
            }
        }
        for (String pid : host.list("/proc")) {
            if (!pid.isEmpty() && Character.isDigit(pid.charAt(0)) && isIrqbalance(host, pid)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIrqbalance(HostFs host, String pid) {
        return "irqbalance".equals(host.read("/proc/" + pid + "/comm").orElse("").strip());
    }

    static CpuSet bannedCpus(String config) {
        for (String line : config.split("\n")) {
            String l = line.strip();
            if (l.startsWith("IRQBALANCE_BANNED_CPULIST=")) {
                try {
                    return CpuSet.parseList(l.substring(l.indexOf('=') + 1).replace("\"", "").replace("'", ""));
                } catch (CpuSetFormatException e) {
                    return CpuSet.empty();
                }
            }
            if (l.startsWith("IRQBALANCE_BANNED_CPUS=")) {
                try {
                    return CpuSet.parseMask(l.substring(l.indexOf('=') + 1).replace("\"", "").replace("'", ""));
                } catch (CpuSetFormatException e) {
                    return CpuSet.empty();
                }
            }
        }
        return CpuSet.empty();
    }

    @Override
    public void plan(State ib, Planning plan) {
        CpuSet vmCpus = plan.vmCpus();
        if (ib.running() && !vmCpus.isSubsetOf(ib.banned())) {
            plan.warn("irqbalance is running and will move IRQs back onto CPUs " + vmCpus.difference(ib.banned())
                    + ": add IRQBALANCE_BANNED_CPULIST=" + vmCpus.union(ib.banned()) + " to " + ib.configFile()
                    + " and restart irqbalance");
        }
    }
}
