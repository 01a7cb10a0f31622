package org.vfioorchestrator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.RecordingHostFs;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.tunable.Tunable;
import org.vfioorchestrator.tunable.cstate.CStates;
import org.vfioorchestrator.tunable.pins.ThreadPins;

/**
 * A plan reads the idle states of a CPU only where a profile disables idle states (the PM QoS
 * method never looks at them: 13 file operations per CPU of the example host, on every hook call), and reading less never
 * changes the plan: it is the plan of a snapshot that read everything.
 */
class PlanReadScopeTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));
    private static final Path RIG = REPO.resolve("examples/hosts/gaming-rig");
    private static final String CPUIDLE = "/cpuidle";

    @TempDir
    Path dir;

    /** The CPUs whose cpuidle directory or files were listed or read. */
    private static TreeSet<Integer> idleStateCpus(RecordingHostFs host) {
        String prefix = "/sys/devices/system/cpu/cpu";
        TreeSet<Integer> cpus = new TreeSet<>();
        for (String path : touched(host)) {
            int at = path.indexOf(CPUIDLE);
            if (path.startsWith(prefix) && at > prefix.length()) {
                cpus.add(Integer.parseInt(path.substring(prefix.length(), at)));
            }
        }
        return cpus;
    }

    /** Every file and directory read so far. */
    private static List<String> touched(RecordingHostFs host) {
        List<String> paths = new ArrayList<>(host.files());
        paths.addAll(host.directories());
        return paths;
    }

    private Plan planAndCheck(String profileText, TreeSet<Integer> expectedIdleReads) throws Exception {
        Path file = dir.resolve("win11.yaml");
        Files.writeString(file, profileText);
        RecordingHostFs host = new RecordingHostFs(HostFs.open(RIG));
        PlanService plans = new PlanService(host);
        Profile profile = plans.load(file);

        Plan scoped = plans.plan(List.of(profile));
        assertEquals(expectedIdleReads, idleStateCpus(host));

        HostSnapshot everything = new HostSnapshotReader(HostFs.open(RIG)).readEverything(plans.facts().topology(),
                List.of("win11"));
        assertEquals(Planner.plan(everything, List.of(profile)), scoped);
        return scoped;
    }

    @Test
    void aPmQosProfileReadsNoIdleStateAndPlansAsIfItHadReadEverything() throws Exception {
        Plan plan = planAndCheck(Files.readString(REPO.resolve("examples/profiles/win11.yaml")), new TreeSet<>());
        assertEquals(8, plan.changes(CStates.KIND).size(), "one PM QoS limit per vCPU CPU");
    }

    @Test
    void aDisableStatesProfileReadsTheIdleStatesOfItsVmCpusOnly() throws Exception {
        String text = Files.readString(REPO.resolve("examples/profiles/win11.yaml"))
                .replace("method: pm_qos", "method: disable_states");
        Plan plan = planAndCheck(text, new TreeSet<>(List.of(8, 9, 10, 11, 24, 25, 26, 27)));
        assertFalse(plan.changes(CStates.KIND).isEmpty());
        for (Change c : plan.changes(CStates.KIND)) {
            assertTrue(c.path().matches("/sys/devices/system/cpu/cpu\\d+/cpuidle/state\\d+/disable"), c.toString());
        }
    }

    @Test
    void aPlanOfThreadPinsAloneReadsNoOtherTunablesFilesAndPinsAsTheWholePlan() throws Exception {
        RecordingHostFs host = new RecordingHostFs(HostFs.open(RIG));
        PlanService plans = new PlanService(host);
        Profile profile = plans.load(REPO.resolve("examples/profiles/win11.yaml"));
        List<Tunable<?>> pinsOnly = List.of(ThreadPins.UNIT);
        List<String> byLoad = touched(host);

        Plan pins = plans.plan(List.of(profile), pinsOnly);

        List<String> touched = touched(host);
        touched.removeAll(byLoad);
        assertFalse(touched.isEmpty(), "the plan read QEMU's threads");
        for (String other : List.of("/proc/irq", "/proc/interrupts", "/sys/fs/cgroup", "/sys/devices/virtual/workqueue",
                "/cpufreq", CPUIDLE)) {
            assertTrue(touched.stream().noneMatch(p -> p.contains(other)), "a thread-pin plan read " + other);
        }
        Plan whole = plans.plan(List.of(profile));
        assertFalse(pins.changes().isEmpty(), "the rig runs win11's QEMU");
        assertEquals(whole.changes(ThreadPins.KIND), pins.changes());
    }
}
