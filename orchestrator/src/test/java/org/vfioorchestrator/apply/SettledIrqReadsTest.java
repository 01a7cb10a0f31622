package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.plan.Plan;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.plan.Unmovable;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.ForwardingHostFs;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.tunable.irq.Irqs;

/**
 * Whether the kernel manages an IRQ (its debugfs file) is read only where a plan could move the IRQ:
 * once the host side is applied, the IRQs on the host CPUs are settled, and `started`, `reconnect`
 * and every later plan skip them (12,800 reads on a 1024-CPU host) with the same plan as before.
 */
class SettledIrqReadsTest {
    private static final String DEBUG = "/sys/kernel/debug/irq/irqs/";

    @TempDir
    Path dir;

    /** The IRQ numbers whose debugfs file was read. */
    static final class DebugReads extends ForwardingHostFs {
        final TreeSet<Integer> irqs = new TreeSet<>();

        DebugReads(HostFs host) {
            super(host);
        }

        @Override
        public Optional<String> read(String path) {
            if (path.startsWith(DEBUG)) {
                irqs.add(Integer.parseInt(path.substring(DEBUG.length())));
            }
            return host.read(path);
        }
    }

    @Test
    void afterPrepareOnlyTheIrqsOffTheHostCpusOrOfThePassedThroughDeviceAreAskedAndThePlanIsTheSame() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        DebugReads host = new DebugReads(HostFs.open(root));
        PlanService plans = new PlanService(host);
        Profile profile = TreeHosts.profile(plans, dir, "small", TreeHosts.SMALL_PROFILE);

        TreeSet<Integer> all = new TreeSet<>();
        for (String name : host.list("/proc/irq")) {
            if (KernelText.isNumber(name)) {
                all.add(Integer.parseInt(name));
            }
        }
        TreeSet<Integer> unsettledBefore = unsettled(root, all);
        Plan fresh = plans.plan(List.of(profile));
        assertEquals(unsettledBefore, host.irqs);
        assertTrue(unsettledBefore.size() > all.size() - 3, "a fresh host has its IRQs everywhere: " + unsettledBefore);

        new Applier(plans, line -> { }).apply(profile, false);
        TreeSet<Integer> unsettled = unsettled(root, all);
        assertFalse(unsettled.isEmpty(), "managed and pass-through IRQs stay unsettled");
        assertTrue(unsettled.size() < all.size() / 2, "most IRQs were moved to the host CPUs: " + unsettled);

        host.irqs.clear();
        Plan after = plans.plan(List.of(profile));
        assertEquals(unsettled, host.irqs);
        assertEquals(List.of(), after.changes(Irqs.KIND), "nothing left to move");
        assertEquals(paths(fresh.unmovable(Irqs.KIND)), paths(after.unmovable(Irqs.KIND)),
                "the managed IRQs are reported as before");
        assertFalse(after.unmovable(Irqs.KIND).isEmpty());
    }

    /** The IRQs not on exactly the host CPUs 0,4, or of the passed-through device: the plan could move them. */
    private static TreeSet<Integer> unsettled(Path root, TreeSet<Integer> all) throws java.io.IOException {
        String interrupts = Files.readString(root.resolve("proc/interrupts"));
        TreeSet<Integer> out = new TreeSet<>();
        for (int irq : all) {
            String affinity = Files.readString(root.resolve("proc/irq/" + irq + "/smp_affinity_list")).strip();
            if (!affinity.equals("0,4") || isVfio(interrupts, irq)) {
                out.add(irq);
            }
        }
        return out;
    }

    private static boolean isVfio(String interrupts, int irq) {
        for (String line : interrupts.split("\n")) {
            if (line.strip().startsWith(irq + ":")) {
                return line.contains("vfio-");
            }
        }
        return false;
    }

    private static List<String> paths(List<Unmovable> unmovable) {
        List<String> out = new ArrayList<>();
        for (Unmovable u : unmovable) {
            out.add(u.path() + " " + u.why());
        }
        return out;
    }
}
