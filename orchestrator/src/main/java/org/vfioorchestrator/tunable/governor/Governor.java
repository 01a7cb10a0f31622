package org.vfioorchestrator.tunable.governor;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.ProfiledTunable;

/**
 * The cpufreq governor of the VM's CPUs ({@code governor: performance}): no ramp-up delay when a vCPU wakes.
 * Its profile section is the governor's name, or {@value #LEAVE}; it reads each VM CPU's current governor
 * (a CPU without cpufreq control has none in the map).
 */
public final class Governor extends ProfiledTunable<Map<Integer, String>, String> {
    public static final ChangeKind KIND = new ChangeKind("governor", "governor");
    /** The section's value that leaves the governor alone; also what a profile without it means. */
    public static final String LEAVE = "leave";

    /** Built after the constants its constructor uses. */
    public static final Governor UNIT = new Governor();

    private Governor() {
        super(KIND, "governor", Set.of(), LEAVE);
    }

    /** A governor every vCPU's CPU offers. */
    @Override
    public String parse(YamlNode node, Input in) {
        String g = in.walk().scalar(node, "governor", "a cpufreq governor name or 'leave'");
        if (g == null || LEAVE.equals(g)) {
            return LEAVE;
        }
        for (int cpu : in.vcpuPins()) {
            List<String> offered = in.host().governorsOffered(cpu);
            if (offered.isEmpty()) {
                in.walk().problem(node, "governor", "CPU " + cpu + " has no cpufreq control (no scaling_available_governors);"
                        + " write governor: leave");
                return g;
            }
            if (!offered.contains(g)) {
                in.walk().problem(node, "governor", "CPU " + cpu + " does not offer '" + g + "'; write one of "
                        + String.join(", ", offered) + ", or leave");
                return g;
            }
        }
        return g;
    }

    private static String file(int cpu) {
        return "/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_governor";
    }

    @Override
    public Map<Integer, String> read(HostFs host, ReadScope scope) {
        Map<Integer, String> out = new TreeMap<>();
        for (int cpu : scope.vmCpus().toList()) {
            host.read(file(cpu)).ifPresent(g -> out.put(cpu, g.strip()));
        }
        return out;
    }

    @Override
    public void plan(Map<Integer, String> governors, Planning plan) {
        for (Profile p : plan.profiles()) {
            String wanted = p.settings(this);
            if (LEAVE.equals(wanted)) {
                continue;
            }
            for (int cpu : p.vmCpus().toList()) {
                String now = governors.get(cpu);
                if (now == null) {
                    plan.warn("CPU " + cpu + " has no cpufreq control; governor " + wanted + " not set");
                    continue;
                }
                plan.write(KIND, file(cpu), now, wanted, ValueFormat.TEXT, "vCPU CPUs run at full speed, no ramp-up delay");
            }
        }
    }
}
