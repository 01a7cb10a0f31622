package org.vfioorchestrator.doctor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Interim: reads the pins doctor needs from a profile until the profile package's
 * loader lands on main; then {@code ProfileView} is built from its Profile instead.
 * Understands explicit pins only ({@code vcpus: pin: [..]}).
 */
public final class Profiles {
    private Profiles() {
    }

    public static ProfileView read(Path file) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        } catch (IOException e) {
            throw OrchestratorException.data(file + ": cannot read the profile: " + e.getMessage());
        } catch (YAMLException e) {
            throw OrchestratorException.data(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(doc instanceof Map<?, ?> m)) {
            throw OrchestratorException.data(file + ": a profile is a YAML mapping (host_cpus:, vcpus:, ...)");
        }
        CpuSet host = cpus(file, m, "host_cpus");
        Object vcpus = m.get("vcpus");
        Object pin = vcpus instanceof Map<?, ?> v ? v.get("pin") : null;
        if (!(pin instanceof List<?> list)) {
            throw OrchestratorException.data(file + ": vcpus: pin: must be a list of host CPUs for doctor (pin: auto is"
                    + " resolved by the profile loader, not yet available here)");
        }
        List<Integer> pins = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Integer i)) {
                throw OrchestratorException.data(file + ": vcpus: pin: '" + o + "' is not a CPU number");
            }
            pins.add(i);
        }
        return new ProfileView(host, pins, CpuSet.of(pins), cpus(file, m, "emulator_cpus"), cpus(file, m, "iothread_cpus"));
    }

    private static CpuSet cpus(Path file, Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return CpuSet.empty();
        }
        try {
            return CpuSet.parseList(String.valueOf(v));
        } catch (CpuSetFormatException e) {
            throw OrchestratorException.data(file + ": " + key + ": " + e.getMessage());
        }
    }
}
