package org.vfioorchestrator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.cli.Main;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.testing.TreeSnapshot;
import org.vfioorchestrator.tunable.cpuset.Cpusets;
import org.vfioorchestrator.tunable.irq.Irqs;
import org.vfioorchestrator.tunable.pins.ThreadPins;

/**
 * The plan for the bundled example (examples/profiles/win11.yaml on
 * examples/hosts/gaming-rig) against golden files. After an intended change,
 * regenerate them with -Dgolden.update=true and review the diff.
 */
class PlanGoldenTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));
    private static final Path RIG = REPO.resolve("examples/hosts/gaming-rig");
    private static final Path GOLDEN = REPO.resolve("orchestrator/src/test/resources/golden");

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    private static void assertGolden(String name, String actual) throws Exception {
        Path file = GOLDEN.resolve(name);
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(file, actual);
        }
        assertEquals(Files.readString(file), actual, "golden file " + file + " (regenerate with -Dgolden.update=true)");
    }

    @Test
    void textPlanOfTheExampleMatchesTheGoldenFileAndTouchesNothing() throws Exception {
        TreeSnapshot before = TreeSnapshot.of(RIG);
        String[] r = run("plan", REPO.resolve("examples/profiles/win11.yaml").toString(), "--host-root", RIG.toString(),
                "--domain", REPO.resolve("examples/domains/win11.xml").toString());
        assertEquals("0", r[0], r[2]);
        assertEquals("", r[2]);
        assertGolden("win11.gaming-rig.plan.txt", r[1]);
        assertEquals(List.of(), before.differences(TreeSnapshot.of(RIG)), "plan is a dry run");
    }

    @Test
    void jsonPlanOfTheExampleMatchesTheGoldenFile() throws Exception {
        String[] r = run("plan", REPO.resolve("examples/profiles/win11.yaml").toString(), "--host-root", RIG.toString(), "--json");
        assertEquals("0", r[0], r[2]);
        assertGolden("win11.gaming-rig.plan.json", r[1]);
    }

    @Test
    void theExamplePlanWritesExactlyTheseValues() throws Exception {
        PlanService service = new PlanService(HostFs.open(RIG));
        Profile p = service.load(REPO.resolve("examples/profiles/win11.yaml"));
        Plan plan = service.plan(List.of(p));
        assertEquals("0-7,16-23", plan.hostCpus().toString());
        assertEquals("8-11,24-27", plan.vmCpus().toString());
        // systemd runs on the example: its runtime AllowedCPUs on the host's slices, nothing written to cgroupfs
        List<Change> cpusets = plan.changes(Cpusets.KIND);
        assertEquals(List.of("init.scope", "system.slice", "user.slice"),
                cpusets.stream().map(c -> ((Change.SetUnitProperty) c).unit()).toList());
        assertEquals(after(plan, "/run/systemd/system.control/user.slice.d/50-AllowedCPUs.conf"), "0-7,16-23");
        assertTrue(plan.changes().stream().noneMatch(c -> c.path().startsWith("/sys/fs/cgroup/")));
        assertEquals(after(plan, "/proc/irq/default_smp_affinity"), "00ff00ff");
        assertEquals(after(plan, "/sys/devices/virtual/workqueue/cpumask"), "00ff00ff");
        assertEquals(after(plan, "/sys/devices/system/cpu/cpu8/cpufreq/scaling_governor"), "performance");
        assertEquals(after(plan, "/sys/devices/system/cpu/cpu27/power/pm_qos_resume_latency_us"), "n/a");
        assertEquals(16, plan.unmovable(Irqs.KIND).size(), "the NVMe's managed queue IRQs");
        assertTrue(plan.unmovable(Irqs.KIND).stream().allMatch(u -> u.what().contains("nvme0q")));
        List<Change> threads = plan.changes(ThreadPins.KIND);
        assertEquals(15, threads.size());
        assertEquals("8", threads.get(0).after());
        assertEquals(1, plan.warnings().size(), "irqbalance");
        // the planner is pure: same inputs, same plan
        assertEquals(plan, service.plan(List.of(p)));
    }

    private static String after(Plan plan, String path) {
        return plan.changes().stream().filter(c -> c.path().equals(path)).findFirst().orElseThrow().after();
    }

    @Test
    void aDomainWithAnotherVcpuCountIsRefused() throws Exception {
        Path xml = Files.createTempFile("dom", ".xml");
        Files.writeString(xml, Files.readString(REPO.resolve("examples/domains/win11.xml"))
                .replaceFirst("<vcpu([^>]*)>8</vcpu>", "<vcpu$1>6</vcpu>"));
        String[] r = run("plan", REPO.resolve("examples/profiles/win11.yaml").toString(), "--host-root", RIG.toString(),
                "--domain", xml.toString());
        assertEquals("1", r[0]);
        assertEquals("vfio-orchestrator plan: " + xml + ": <vcpu> is 6 but " + REPO.resolve("examples/profiles/win11.yaml")
                + " pins 8 vCPUs (vcpus.pin); give one host CPU per vCPU, or change <vcpu> to 8\n", r[2]);
        Files.delete(xml);
    }
}
