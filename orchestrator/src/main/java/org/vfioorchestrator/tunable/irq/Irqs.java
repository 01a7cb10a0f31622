package org.vfioorchestrator.tunable.irq;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.ProcInterrupts;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileWalk;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.ProfiledTunable;

/**
 * IRQ affinity: every IRQ the kernel lets move, and the default for IRQs registered later, onto the host CPUs;
 * a pass-through device's own IRQs where {@code irqs.passthrough} says. An IRQ the kernel manages (spread over
 * CPUs per queue) is unmovable; when one refuses anyway, {@code apply} records it as refused, not failed.
 */
public final class Irqs extends ProfiledTunable<Irqs.Facts, Irqs.Settings> {
    public static final ChangeKind KIND = new ChangeKind("irq", "IRQs");

    /** What to do with the pass-through device's own IRQs (vfio-msi/msix/intx). */
    public enum Passthrough { HOST, VM, LEAVE }

    public record Settings(boolean moveToHost, Passthrough passthrough) {
    }

    /** Every IRQ in number order, and /proc/irq/default_smp_affinity ('' without it). */
    public record Facts(List<Irq> irqs, String defaultAffinity) {
    }

    /**
     * One IRQ as /proc shows it.
     *
     * @param actions the handler names from /proc/interrupts (e.g. {@code nvme0q3}, {@code vfio-msix[0](0000:0b:00.0)})
     * @param managed the kernel manages its affinity (debugfs says IRQD_AFFINITY_MANAGED): cannot be moved.
     *                Not read, and false, for an IRQ already on the host CPUs of the plan it was read for
     */
    public record Irq(int number, String actions, String chip, String affinityList, CpuSet affinity, boolean managed) {
        /** An IRQ of a device passed through to a VM. */
        public boolean passthrough() {
            return isPassthrough(actions);
        }

        /** vfio registers a pass-through device's handlers as vfio-msi/-msix/-intx. */
        static boolean isPassthrough(String actions) {
            return actions.contains("vfio-");
        }

        public String label() {
            return actions.isEmpty() ? "IRQ " + number : "IRQ " + number + " (" + actions + ")";
        }
    }

    /** Built after the constants its constructor uses. */
    public static final Irqs UNIT = new Irqs();

    private Irqs() {
        super(KIND, "irqs", Set.of("move_to_host", "passthrough"), new Settings(true, Passthrough.HOST));
    }

    // ---- the profile section -------------------------------------------------------------

    @Override
    public Settings parse(YamlNode node, Input in) {
        ProfileWalk w = in.walk();
        boolean move = true;
        Passthrough passthrough = Passthrough.HOST;
        Map<String, YamlNode> m = w.mapping(node, "irqs");
        if (m.containsKey("move_to_host")) {
            Boolean b = w.bool(m.get("move_to_host"), "irqs.move_to_host");
            move = b == null || b;
        }
        if (m.containsKey("passthrough")) {
            Passthrough p = w.choice(m.get("passthrough"), "irqs.passthrough", Passthrough.class);
            passthrough = p == null ? passthrough : p;
        }
        return new Settings(move, passthrough);
    }

    // ---- the host ------------------------------------------------------------------------

    /**
     * Every IRQ. One already on exactly the plan's host CPUs, and of no pass-through device, is one the plan
     * leaves where it is, so whether the kernel manages it is not read (its debugfs file: a read per IRQ, on
     * every call after the first of a VM's start); its {@code managed} says false.
     */
    @Override
    public Facts read(HostFs host, ReadScope scope) {
        CpuSet hostCpus = scope.hostCpus();
        Map<Integer, String[]> described = describeInterrupts(host);
        List<Integer> numbers = new ArrayList<>();
        for (String name : host.list("/proc/irq")) {
            if (KernelText.isNumber(name)) {
                numbers.add(Integer.parseInt(name));
            }
        }
        numbers.sort(null);
        List<Irq> out = new ArrayList<>();
        for (int n : numbers) {
            Optional<String> list = host.read("/proc/irq/" + n + "/smp_affinity_list");
            if (list.isEmpty()) {
                continue; // freed while we looked
            }
            CpuSet affinity;
            try {
                affinity = CpuSet.parseList(list.get());
            } catch (CpuSetFormatException e) {
                throw new HostIoException("/proc/irq/" + n + "/smp_affinity_list", Errno.OTHER,
                        "unexpected content " + e.getMessage());
            }
            String[] d = described.getOrDefault(n, new String[] {"", ""});
            boolean settled = affinity.equals(hostCpus) && !Irq.isPassthrough(d[1]);
            boolean managed = !settled
                    && host.read("/sys/kernel/debug/irq/irqs/" + n).orElse("").contains("IRQD_AFFINITY_MANAGED");
            out.add(new Irq(n, d[1], d[0], list.get().strip(), affinity, managed));
        }
        return new Facts(out, host.read("/proc/irq/default_smp_affinity").orElse("").strip());
    }

    /** IRQ number -> {chip, actions} from /proc/interrupts. */
    private static Map<Integer, String[]> describeInterrupts(HostFs host) {
        Map<Integer, String[]> out = new TreeMap<>();
        Optional<InputStream> in = host.readStream("/proc/interrupts");
        if (in.isEmpty()) {
            return out;
        }
        try (InputStream stream = in.get()) {
            for (ProcInterrupts.Row row : ProcInterrupts.read(stream, false).rows()) {
                if (row.irq() >= 0) {
                    out.put(row.irq(), new String[] {row.chip(), row.actions()});
                }
            }
            return out;
        } catch (IOException e) {
            throw new HostIoException("/proc/interrupts", Errno.fromMessage(e.getMessage()), e.getMessage());
        }
    }

    // ---- the plan ------------------------------------------------------------------------

    @Override
    public void plan(Facts facts, Planning plan) {
        boolean move = false;
        for (Profile p : plan.profiles()) {
            move |= p.settings(this).moveToHost();
        }
        if (!move) {
            return;
        }
        Passthrough passthrough = plan.first().settings(this).passthrough();
        for (Irq irq : facts.irqs()) {
            CpuSet target = plan.hostCpus();
            String why = "keep interrupts off the VM's CPUs";
            if (irq.passthrough()) {
                if (passthrough == Passthrough.LEAVE) {
                    plan.unmovable(KIND, "/proc/irq/" + irq.number(), irq.label(),
                            "pass-through device IRQ left as is (irqs.passthrough: leave)");
                    continue;
                }
                if (passthrough == Passthrough.VM) {
                    target = plan.vmCpus();
                    why = "the pass-through device's IRQ goes to the VM's CPUs (irqs.passthrough: vm)";
                }
            }
            String path = "/proc/irq/" + irq.number() + "/smp_affinity_list";
            plan.controls(path);
            if (irq.affinity().equals(target)) {
                continue;
            }
            if (irq.managed()) {
                plan.unmovable(KIND, "/proc/irq/" + irq.number(), irq.label(),
                        "managed by the kernel (spread over CPUs per queue): its affinity cannot be changed");
                continue;
            }
            plan.change(new Change.WriteFile(KIND, path, irq.affinityList(), target.toString(), ValueFormat.CPU_LIST,
                    why + ": " + irq.label()));
        }
        String def = facts.defaultAffinity();
        if (!def.isEmpty()) {
            plan.write(KIND, "/proc/irq/default_smp_affinity", def, Planning.sameWidthMask(plan.hostCpus(), def),
                    ValueFormat.CPU_MASK, "IRQs registered from now on start on the host CPUs");
        }
    }
}
