package org.vfioorchestrator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.host.Errno;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.RefusingHostFs;
import org.vfioorchestrator.tunable.irq.Irqs;

/** Managed IRQs the plan could not know about (no debugfs) and the kernel refuses: each said once. */
class RefusedIrqReportTest {
    @TempDir
    Path dir;

    @Test
    void twoRefusedIrqsAreTwoAndEachPathIsNamedOnce() throws Exception {
        Path root = TreeHosts.generate(TreeHosts.small(HostSpec.Cgroup.V2), dir);
        PlanService healthy = new PlanService(HostFs.open(root));
        Profile profile = TreeHosts.profile(healthy, dir, "small", TreeHosts.SMALL_PROFILE);
        List<String> irqWrites = new ArrayList<>();
        for (Change c : healthy.plan(List.of(profile)).changes()) {
            if (c.kind() == Irqs.KIND && c.path().endsWith("/smp_affinity_list")) {
                irqWrites.add(c.path());
            }
        }
        List<String> refusing = irqWrites.subList(0, 2);
        HostFs kernel = new RefusingHostFs(HostFs.open(root), refusing, Errno.EPERM);
        PlanService plans = new PlanService(kernel);
        List<String> log = new ArrayList<>();
        ApplyReport report = new Applier(plans, log::add).apply(TreeHosts.profile(plans, dir, "small",
                TreeHosts.SMALL_PROFILE), true);

        String a = irq(refusing.get(0));
        String b = irq(refusing.get(1));
        assertEquals(List.of(new Refusal(refusing.get(0), "IRQ " + a, "managed by the kernel, which keeps its affinity (EPERM)"),
                new Refusal(refusing.get(1), "IRQ " + b, "managed by the kernel, which keeps its affinity (EPERM)")),
                report.refused());
        assertEquals("left in place (the kernel refused) 2: IRQ " + a + ", IRQ " + b
                + ": managed by the kernel, which keeps its affinity (EPERM)", report.refusedSummary());
        for (String path : refusing) {
            assertEquals(1, log.stream().filter(l -> l.contains(path)).count(), "logged once: " + log);
        }
    }

    private static String irq(String path) {
        return path.split("/")[3];
    }
}
