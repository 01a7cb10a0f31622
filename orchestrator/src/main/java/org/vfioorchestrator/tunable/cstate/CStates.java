package org.vfioorchestrator.tunable.cstate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileWalk;
import org.vfioorchestrator.profile.YamlNode;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.ProfiledTunable;

/**
 * Idle states (C-states) of the VM's CPUs: none deeper than {@code cstates.max_latency_us} wake-up latency,
 * through the CPU's PM QoS resume latency limit ({@code pm_qos}) or by disabling each deeper state
 * ({@code disable_states}). Both persist after the hook exits, unlike {@code /dev/cpu_dma_latency}.
 */
public final class CStates extends ProfiledTunable<Map<Integer, CStates.CpuIdle>, CStates.Settings> {
    public static final ChangeKind KIND = new ChangeKind("cstate", "C-states");

    public enum Method { PM_QOS, DISABLE_STATES, LEAVE }

    /** Idle states on the VM's CPUs: none deeper than {@code maxLatencyUs} wake-up latency. */
    public record Settings(Method method, int maxLatencyUs) {
    }

    /** A CPU's PM QoS limit (null without the file) and idle states (empty where not read or none). */
    public record CpuIdle(String pmQosResumeLatency, List<IdleState> idleStates) {
    }

    public record IdleState(int index, String name, int latencyUs, String disable) {
    }

    /** Idle states in the kernel's order, state0 first. */
    private static final Comparator<IdleState> BY_INDEX = Comparator.comparingInt(IdleState::index);

    /** Built after the constants its constructor uses. */
    public static final CStates UNIT = new CStates();

    private CStates() {
        super(KIND, "cstates", Set.of("method", "max_latency_us"), new Settings(Method.LEAVE, 0));
    }

    // ---- the profile section -------------------------------------------------------------

    @Override
    public Settings parse(YamlNode node, Input in) {
        ProfileWalk w = in.walk();
        Method method = Method.LEAVE;
        int max = 0;
        Map<String, YamlNode> m = w.mapping(node, "cstates");
        if (m.containsKey("method")) {
            Method c = w.choice(m.get("method"), "cstates.method", Method.class);
            method = c == null ? method : c;
        } else if (!m.isEmpty()) {
            w.problem(node, "cstates.method", "missing; write pm_qos, disable_states or leave");
        }
        if (m.containsKey("max_latency_us")) {
            Integer i = w.integer(m.get("max_latency_us"), "cstates.max_latency_us", 0, 1_000_000);
            max = i == null ? 0 : i;
        }
        return new Settings(method, max);
    }

    // ---- the host ------------------------------------------------------------------------

    /**
     * The PM QoS limit of each VM CPU, and the idle states only of those whose profile disables idle states
     * (the PM QoS method never looks at them: a dozen reads per CPU on every hook call).
     */
    @Override
    public Map<Integer, CpuIdle> read(HostFs host, ReadScope scope) {
        CpuSet idleStateCpus = scope.everything() ? scope.topology().online() : CpuSet.empty();
        for (Profile p : scope.profiles()) {
            if (p.settings(this).method() == Method.DISABLE_STATES) {
                idleStateCpus = idleStateCpus.union(p.vmCpus());
            }
        }
        Map<Integer, CpuIdle> out = new TreeMap<>();
        for (int cpu : scope.vmCpus().toList()) {
            String base = "/sys/devices/system/cpu/cpu" + cpu;
            String pmQos = host.read(base + "/power/pm_qos_resume_latency_us").map(String::strip).orElse(null);
            List<IdleState> states = new ArrayList<>();
            if (idleStateCpus.contains(cpu)) {
                for (String s : host.list(base + "/cpuidle")) {
                    if (!s.startsWith("state")) {
                        continue;
                    }
                    String dir = base + "/cpuidle/" + s;
                    int latency = parseIntOr(host.read(dir + "/latency").orElse(""), 0);
                    states.add(new IdleState(Integer.parseInt(s.substring(5)), host.read(dir + "/name").orElse("").strip(),
                            latency, host.read(dir + "/disable").orElse("").strip()));
                }
                states.sort(BY_INDEX);
            }
            out.put(cpu, new CpuIdle(pmQos, states));
        }
        return out;
    }

    private static int parseIntOr(String s, int fallback) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    // ---- the plan ------------------------------------------------------------------------

    @Override
    public void plan(Map<Integer, CpuIdle> idle, Planning plan) {
        for (Profile p : plan.profiles()) {
            plan(p, idle, plan);
        }
    }

    private void plan(Profile p, Map<Integer, CpuIdle> idle, Planning plan) {
        Settings s = p.settings(this);
        if (s.method() == Method.LEAVE) {
            return;
        }
        int max = s.maxLatencyUs();
        for (int cpu : p.vmCpus().toList()) {
            CpuIdle now = idle.get(cpu);
            String base = "/sys/devices/system/cpu/cpu" + cpu;
            if (s.method() == Method.PM_QOS) {
                if (now == null || now.pmQosResumeLatency() == null) {
                    plan.warn("CPU " + cpu + " has no power/pm_qos_resume_latency_us; C-states left as they are");
                    continue;
                }
                // "0" means no constraint to the kernel; "n/a" is the value that forbids any wake-up latency.
                String value = max == 0 ? "n/a" : Integer.toString(max);
                plan.write(KIND, base + "/power/pm_qos_resume_latency_us", now.pmQosResumeLatency(), value,
                        ValueFormat.TEXT, "no idle state with a wake-up latency above " + max + " us on vCPU CPUs");
            } else {
                if (now == null || now.idleStates().isEmpty()) {
                    plan.warn("CPU " + cpu + " has no cpuidle states; C-states left as they are");
                    continue;
                }
                for (IdleState state : now.idleStates()) {
                    if (state.latencyUs() > max) {
                        plan.write(KIND, base + "/cpuidle/state" + state.index() + "/disable", state.disable(), "1",
                                ValueFormat.TEXT, state.name() + " wakes up in " + state.latencyUs() + " us (> " + max + " us)");
                    }
                }
            }
        }
    }
}
