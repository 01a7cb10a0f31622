package org.vfioorchestrator.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.lab.guest.KernelState;
import org.vfioorchestrator.testing.CliRun;

/**
 * The differential half of the lab: the guest captured itself ({@code capture}), then applied and
 * reverted a profile on its real kernel and kept the kernel files' values. Here the same apply and
 * revert run on that capture through the simulated kernel ({@code TreeHostFs}), and every file either
 * side changed must end with the same value (CPU lists and masks compared as sets). A difference is a
 * rule of the real kernel the simulation has yet to learn.
 */
final class SimulationDiff {
    private SimulationDiff() {
    }

    @SuppressWarnings("unchecked")
    static void check(Path dir) throws IOException {
        Map<String, Object> real = JSON.std.mapFrom(Files.readString(dir.resolve("real.json")));
        Path tree = Files.createTempDirectory("lab-capture");
        try {
            copyTree(dir.resolve("capture"), tree);
            markRefusedIrqs(tree, (Map<String, String>) real.get("irqsRefused"));
            String profile = dir.resolve("labvm.yaml").toString();
            SortedMap<String, String> t0 = KernelState.files(tree);
            CliRun apply = CliRun.run("apply", "labvm", "--profile", profile, "--host-root", tree.toString());
            SortedMap<String, String> t1 = KernelState.files(tree);
            CliRun revert = CliRun.run("revert", "labvm", "--host-root", tree.toString());
            SortedMap<String, String> t2 = KernelState.files(tree);

            Map<String, String> k0 = (Map<String, String>) real.get("before");
            List<String> diffs = new ArrayList<>();
            compare("after apply", k0, (Map<String, String>) real.get("applied"), t0, t1, diffs);
            compare("after revert", k0, (Map<String, String>) real.get("reverted"), t0, t2, diffs);
            assertTrue(diffs.isEmpty(), diffs.size() + " values differ between the kernel and the simulation:\n"
                    + String.join("\n", diffs) + "\nsimulated apply: " + apply.out() + apply.err() + "simulated revert: "
                    + revert.out() + revert.err() + "real revert: " + real.get("revertOutput"));
            assertEquals(((Number) real.get("applyExit")).intValue(), apply.code(), "apply's exit code: " + apply.err());
            assertEquals(((Number) real.get("revertExit")).intValue(), revert.code(), "revert's exit code: " + revert.err());
        } finally {
            deleteTree(tree);
        }
    }

    /**
     * The IRQs the guest's kernel refused to move, as the simulated kernel learns of a managed IRQ: its
     * debugfs entry. The guest's kernel has no IRQ debugfs, so its capture cannot say.
     */
    private static void markRefusedIrqs(Path tree, Map<String, String> refused) throws IOException {
        Path debug = tree.resolve("sys/kernel/debug/irq/irqs");
        Files.createDirectories(debug);
        for (String irq : refused.keySet()) {
            Files.writeString(debug.resolve(irq), "handler:  handle_edge_irq\ndstate:   0x00000000\n            IRQD_AFFINITY_MANAGED\n");
        }
    }

    /** Every file the simulation models that either side changed from its start must end the same on both. */
    private static void compare(String stage, Map<String, String> k0, Map<String, String> k, Map<String, String> t0,
            Map<String, String> t, List<String> diffs) {
        Set<String> keys = new TreeSet<>();
        for (String key : union(k0.keySet(), k.keySet())) {
            if (!same(key, k0.get(key), k.get(key))) {
                keys.add(key);
            }
        }
        for (String key : union(t0.keySet(), t.keySet())) {
            if (!same(key, t0.get(key), t.get(key))) {
                keys.add(key);
            }
        }
        for (String key : keys) {
            if (!t0.containsKey(key) && !t.containsKey(key)) {
                continue; // a file the capture does not hold (e.g. cpuset.cpus.effective): the simulation has no say
            }
            if (k.get(key) == null && KernelState.comesAndGoes(key, k)) {
                continue; // systemd stopped the unit meanwhile (libvirtd exits when idle): its cgroup went with it
            }
            if (!same(key, k.get(key), t.get(key))) {
                diffs.add(stage + ": " + key + ": kernel '" + k.get(key) + "', simulation '" + t.get(key) + "'");
            }
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    static boolean same(String key, String a, String b) {
        if (a == null || b == null) {
            return a == b;
        }
        String x = a.strip();
        String y = b.strip();
        if (key.endsWith("cpumask") || key.endsWith("default_smp_affinity")) {
            return CpuSet.parseMask(x).equals(CpuSet.parseMask(y));
        }
        if (key.endsWith("subtree_control")) {
            return words(x).equals(words(y));
        }
        if (x.matches("[0-9,\\-]*") && y.matches("[0-9,\\-]*")) {
            return CpuSet.parseList(x).equals(CpuSet.parseList(y));
        }
        return x.equals(y);
    }

    private static Set<String> words(String s) {
        Set<String> w = new TreeSet<>(List.of(s.split("\\s+")));
        w.remove("");
        return w;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
