package org.vfioorchestrator.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.vfioorchestrator.lab.guest.GuestMain;
import org.vfioorchestrator.lab.guest.Scenarios;
import org.vfioorchestrator.testing.Requires;

/**
 * The real-kernel lab: boots a Debian 12 guest with systemd (4 CPUs: one socket, two cores of two
 * threads) under QEMU, once per variant, runs {@code lab.guest.Scenarios} inside it against the built
 * jar, and reports each scenario as a test. Needs root, QEMU and mmdebstrap (to build the image once:
 * {@code src/test/lab/build-image.sh}); outside CI it skips without them, in CI it fails.
 *
 * <p>Runs after {@code package} (it needs the shaded jar), in surefire's {@code lab} execution;
 * {@code -Dlab.skip=true} leaves it out, {@code -Dlab.seed=N} repeats a run's random kill points,
 * {@code -Dlab.scenarios=partition,cycles} runs only the scenarios whose names contain one of those words,
 * {@code -Dlab.variants=v2} only that variant (v1, v2, v2-new).
 */
@Tag("lab")
class LabTest {
    private static final long SEED = Long.getLong("lab.seed", System.currentTimeMillis() % 100_000);
    private static final List<String> SCENARIOS = words(System.getProperty("lab.scenarios", ""));
    private static final List<String> VARIANTS = words(System.getProperty("lab.variants", ""));

    @TestFactory
    Stream<DynamicNode> systemdWithCgroupV2() throws Exception {
        return variant("v2", "systemd + cgroup v2", "6.1", "", SCENARIOS);
    }

    @TestFactory
    Stream<DynamicNode> systemdWithCgroupV1() throws Exception {
        return variant("v1", "systemd + cgroup v1", "6.1", "systemd.unified_cgroup_hierarchy=0", SCENARIOS);
    }

    /**
     * Variant (c): bookworm-backports' kernel on cgroup v2, where the kernel's cpuset and partition rules may have
     * moved since 6.1: every scenario but the kill points, the cycles and libvirt's, which repeat the same
     * kernel writes many times (v2 runs them) and would add ten minutes on one emulated CPU.
     */
    @TestFactory
    Stream<DynamicNode> systemdWithCgroupV2OnNewerKernel() throws Exception {
        return variant("v2-new", "systemd + cgroup v2, newer kernel", "new", "", SCENARIOS.isEmpty() ? NEWER_KERNEL_SCENARIOS : SCENARIOS);
    }

    private static final List<String> NEWER_KERNEL_SCENARIOS = List.of("kernel:", "systemd:", "apply confines", "cgroupfs",
            "isolation holds", "two VMs", "partition", "differential");

    private Stream<DynamicNode> variant(String tag, String title, String kernel, String append, List<String> scenarios)
            throws Exception {
        Assumptions.assumeTrue(VARIANTS.isEmpty() || VARIANTS.contains(tag), "-Dlab.variants=" + String.join(",", VARIANTS));
        Requires.root("the lab builds its image with mmdebstrap and boots it under QEMU");
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "mmdebstrap", "mkfs.ext4")) {
            Requires.that(onPath(tool), "needs " + tool + " (apt-get install qemu-system-x86 qemu-utils mmdebstrap e2fsprogs)");
        }
        Path jar = Path.of(System.getProperty("vfio.jar", "target/vfio-orchestrator.jar"));
        Requires.that(Files.isRegularFile(jar), "needs the built jar " + jar + ": run 'mvn -B verify' (the lab runs after 'package')");

        LabImage image;
        try {
            image = LabImage.ensure();
        } catch (IOException e) {
            // no network or no room outside CI: the reason shows as the skip; in CI it fails
            Requires.that(false, "the lab's guest image could not be built: " + e.getMessage());
            return Stream.empty();
        }
        Path work = Path.of("target", "lab", tag).toAbsolutePath();
        Path share = work.resolve("share");
        deleteTree(work);
        Files.createDirectories(share.resolve("out"));
        Files.copy(jar, share.resolve("vfio-orchestrator.jar"));
        copyGuestClasses(share.resolve("classes"));
        List<String> run = new ArrayList<>(List.of("#!/bin/sh", "cd /lab",
                "exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp /lab/classes:/lab/vfio-orchestrator.jar "
                        + GuestMain.class.getName() + " /lab/out " + tag + " " + SEED + (scenarios.isEmpty() ? "" : " /lab/scenarios.txt")));
        Files.write(share.resolve("run"), run);
        share.resolve("run").toFile().setExecutable(true);
        Files.write(share.resolve("scenarios.txt"), scenarios);

        System.out.println("lab " + tag + ": booting " + title + " (kernel " + image.release(kernel) + "), seed " + SEED);
        LabVm.Boot boot = LabVm.run(image, kernel, append, work, share, 40, tag);
        System.out.println("lab " + tag + ": guest ended after " + Math.round(boot.seconds()) + " s"
                + (boot.timedOut() ? " (timed out)" : ""));

        Path results = share.resolve("out/results.json");
        List<DynamicNode> tests = new ArrayList<>();
        List<String> ran = new ArrayList<>();
        if (Files.exists(results)) {
            Map<String, Object> doc = JSON.std.mapFrom(Files.readString(results));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> list = (List<Map<String, Object>>) doc.get("scenarios");
            for (Map<String, Object> r : list) {
                ran.add(String.valueOf(r.get("name")));
                tests.add(DynamicTest.dynamicTest(String.valueOf(r.get("name")), () -> report(tag, r)));
            }
        }
        Path differential = share.resolve("out").resolve(Scenarios.DIFFERENTIAL_DIR);
        for (Path profile : Files.exists(differential) ? list(differential) : List.<Path>of()) {
            if (Files.exists(profile.resolve("real.json"))) {
                tests.add(DynamicTest.dynamicTest("the simulated kernel, on this guest's capture, ends with the kernel's values ("
                        + profile.getFileName() + " profile)", () -> SimulationDiff.check(profile)));
            }
        }
        String guestRc = Files.exists(share.resolve("out/run.rc")) ? Files.readString(share.resolve("out/run.rc")).strip() : "none";
        tests.add(DynamicTest.dynamicTest("the guest booted, ran every scenario and powered off", () -> {
            if (boot.timedOut() || !"0".equals(guestRc) || ran.isEmpty()) {
                fail("guest " + (boot.timedOut() ? "timed out" : "ended") + " after " + Math.round(boot.seconds()) + " s, runner exit "
                        + guestRc + ", " + ran.size() + " scenarios reported\n--- run.log (end) ---\n" + tail(share.resolve("out/run.log"), 40)
                        + "\n--- console (end) ---\n" + tail(boot.console(), 40));
            }
            assertEquals(0, boot.exitCode(), "QEMU's exit code");
        }));
        return Stream.of(DynamicContainer.dynamicContainer(title + " (kernel " + image.release(kernel) + ")", tests.stream()));
    }

    private static void report(String tag, Map<String, Object> r) {
        @SuppressWarnings("unchecked")
        List<Object> details = (List<Object>) r.getOrDefault("details", List.of());
        for (Object d : details) {
            System.out.println("lab " + tag + " | " + r.get("name") + " | " + d);
        }
        switch (String.valueOf(r.get("status"))) {
            case "passed" -> {
            }
            // the scenario does not apply to this variant (e.g. a v2 rule on v1): not an unmet need
            case "skipped" -> Assumptions.abort(String.valueOf(r.get("message")));
            default -> fail(r.get("message") + "\n(" + r.get("seconds") + " s)");
        }
    }

    private static void copyGuestClasses(Path to) throws IOException {
        Path classes = Path.of(GuestMain.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Path pkg = classes.resolve(GuestMain.class.getPackageName().replace('.', '/'));
        Path target = to.resolve(classes.relativize(pkg));
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(pkg)) {
            for (Path f : files.toList()) {
                Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static String tail(Path file, int lines) throws IOException {
        if (!Files.exists(file)) {
            return "(no " + file + ")";
        }
        List<String> all = Files.readAllLines(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static List<String> words(String commaSeparated) {
        return java.util.Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(w -> !w.isEmpty()).toList();
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
