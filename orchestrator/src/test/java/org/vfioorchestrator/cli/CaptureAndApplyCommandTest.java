package org.vfioorchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfioorchestrator.testing.CliRun.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.testing.CliRun;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;
import org.vfioorchestrator.testing.TreeSnapshot;

/** capture, apply and revert through the command line: output, exit codes, messages. */
class CaptureAndApplyCommandTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));
    private static final Path RIG = REPO.resolve("examples/hosts/gaming-rig");
    private static final String PROFILE = REPO.resolve("examples/profiles/win11.yaml").toString();

    @TempDir
    Path dir;

    @Test
    void aCaptureOfTheExamplePlansExactlyLikeTheExample() {
        Path cap = dir.resolve("cap");
        CliRun c = run("capture", cap.toString(), "--vm", "win11", "--host-root", RIG.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().startsWith("captured "), c.out());
        CliRun fromRig = run("plan", PROFILE, "--host-root", RIG.toString(), "--json");
        CliRun fromCapture = run("plan", PROFILE, "--host-root", cap.toString(), "--json");
        assertEquals(fromRig.out(), fromCapture.out());
        assertTrue(Files.exists(cap.resolve("proc/cmdline")), "doctor's files come along");
    }

    /**
     * On a systemd host a capture also holds the cgroup tree systemd manages, which the simulated systemd
     * acts on: an apply on the capture confines through it, and the revert leaves the capture as it was
     * (the lab's differential run found captures without it, where the simulated apply failed).
     */
    @Test
    void aCaptureOfASystemdHostTakesAnApplyAndARevert() throws Exception {
        Path cap = dir.resolve("cap");
        assertEquals(0, run("capture", cap.toString(), "--vm", "win11", "--host-root", RIG.toString()).code());
        TreeSnapshot before = TreeSnapshot.of(cap);
        CliRun apply = run("apply", "win11", "--profile", PROFILE, "--host-root", cap.toString());
        assertEquals(0, apply.code(), apply.err());
        assertEquals("0-7,16-23", Files.readString(cap.resolve("sys/fs/cgroup/user.slice/cpuset.cpus")).strip());
        CliRun revert = run("revert", "win11", "--host-root", cap.toString());
        assertEquals(0, revert.code(), revert.err());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(cap)));
    }

    @Test
    void captureRefusesAFolderThatIsNotEmpty() throws Exception {
        Files.writeString(dir.resolve("keep.txt"), "mine");
        CliRun c = run("capture", dir.toString(), "--host-root", RIG.toString());
        assertEquals(1, c.code());
        assertEquals("vfio-orchestrator capture: " + dir + ": not empty; capture into a new folder\n", c.err());
    }

    @Test
    void captureOfThisMachineIsAUsableHostRoot() {
        Path cap = dir.resolve("live");
        CliRun c = run("capture", cap.toString());
        assertEquals(0, c.code(), c.err());
        CliRun t = run("topology", "--host-root", cap.toString());
        assertEquals(0, t.code(), t.err());
        assertEquals(run("topology").out(), t.out());
    }

    @Test
    void applyAndRevertReportWhatTheyDidWithTheRightExitCodes() throws Exception {
        Path root = dir.resolve("rig");
        HostTreeGenerator.generate(HostSpec.gamingRig(), root);
        TreeSnapshot before = TreeSnapshot.of(root);
        CliRun a = run("apply", "win11", "--profile", PROFILE, "--host-root", root.toString());
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().startsWith("win11: applied 91 changes; host keeps CPUs 0-7,16-23, vCPUs on 8-11,24-27\n"), a.out());
        CliRun again = run("apply", "win11", "--profile", PROFILE, "--host-root", root.toString());
        assertTrue(again.out().startsWith("win11: already applied, nothing to change"), again.out());

        Files.writeString(root.resolve("sys/devices/system/cpu/cpu9/cpufreq/scaling_governor"), "powersave\n");
        CliRun drift = run("revert", "win11", "--host-root", root.toString());
        assertEquals(3, drift.code());
        assertEquals("win11: restored 90 settings\n", drift.out());
        assertEquals(List.of("revert: drift, left alone: /sys/devices/system/cpu/cpu9/cpufreq/scaling_governor: now 'powersave',"
                + " we wrote 'performance', before us it was 'schedutil'",
                "revert: someone changed these after us; run with --force to restore the values from before us"),
                drift.err().lines().toList());
        CliRun forced = run("revert", "win11", "--force", "--host-root", root.toString());
        assertEquals(0, forced.code(), forced.err());
        assertEquals("win11: restored 1 setting\n", forced.out());
        assertEquals(List.of(), before.differences(TreeSnapshot.of(root)));

        CliRun nothing = run("revert", "win11", "--host-root", root.toString());
        assertEquals(0, nothing.code());
        assertEquals("win11: not applied, nothing to revert\n", nothing.out());
    }

    @Test
    void userMistakesAreOneLineAndUsageErrorsExitTwo() {
        CliRun badName = run("apply", "../x", "--host-root", RIG.toString());
        assertEquals(1, badName.code());
        assertEquals("vfio-orchestrator apply: VM name '../x' is not supported: use letters, digits, '.', '_', '+' and '-'"
                + " (at most 128, no '..')\n", badName.err());
        CliRun noProfile = run("apply", "nosuchvm", "--host-root", RIG.toString());
        assertEquals(1, noProfile.code());
        assertTrue(noProfile.err().contains("VM nosuchvm has no profile at "), noProfile.err());
        CliRun usage = run("revert");
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("revert: Missing required argument (specify one of these): (VM | --all)\n"), usage.err());
        CliRun badRoot = run("plan", PROFILE, "--host-root", dir.resolve("nope").toString());
        assertEquals(1, badRoot.code());
        assertEquals("vfio-orchestrator plan: --host-root " + dir.resolve("nope")
                + ": not a directory; give the folder that holds sys/ and proc/\n", badRoot.err());
    }
}
