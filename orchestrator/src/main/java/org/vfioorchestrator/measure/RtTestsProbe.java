package org.vfioorchestrator.measure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.process.CommandRunner;

/**
 * Runs rt-tests' cyclictest or oslat pinned to the probed CPUs, with an argument array
 * through {@link CommandRunner}, and parses what they print.
 */
public final class RtTestsProbe {
    /** cyclictest histogram range: 1 µs buckets up to 10 ms; beyond is counted as overflow. */
    static final int HISTOGRAM_US = 10_000;
    /** Where cyclictest writes its --json file; a private directory of this tool. */
    static final String WORK_DIR = "/run/vfio-orchestrator/probe";

    private final HostFs host;
    private final CommandRunner runner;

    public RtTestsProbe(HostFs host, CommandRunner runner) {
        this.host = host;
        this.runner = runner;
    }

    /** The program's path on the host's PATH, looked up through HostFs. */
    public Optional<String> find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (dir.startsWith("/")) {
                String candidate = (dir.endsWith("/") ? dir : dir + "/") + program;
                if (host.exists(candidate) && !host.isDirectory(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * {@code cyclictest -m -q -p95 -i200 --histogram=US --affinity=CPUS -t N -D SECS [--mainaffinity=OTHER]
     * [--json=FILE]}: one thread per CPU, waking every 200 µs, SCHED_FIFO 95 or (with {@code --policy=other}
     * in place of {@code -p95}) SCHED_OTHER.
     */
    public ProbeResult cyclictest(String exe, CpuSet cpus, int seconds, ProbePolicy policy) {
        CommandRunner.Result help = runner.run(List.of(exe, "--help"), Duration.ofSeconds(10));
        String helpText = help.stdout() + help.stderr();
        boolean json = helpText.contains("--json");
        CpuSet others = online().difference(cpus);
        List<String> argv = cyclictestArgv(exe, cpus, seconds, policy);
        if (helpText.contains("--mainaffinity") && !others.isEmpty()) {
            argv.add("--mainaffinity=" + others);
        }
        String jsonPath = WORK_DIR + "/cyclictest-" + ProcessHandle.current().pid() + ".json";
        if (json) {
            host.createPrivateDirectories(WORK_DIR);
            argv.add("--json=" + host.resolve(jsonPath));
        }
        try {
            CommandRunner.Result r = runner.run(argv, Duration.ofSeconds(seconds + 60L));
            failIfBad("cyclictest", r);
            List<CpuLatency> perCpu;
            Optional<String> jsonText = json ? host.read(jsonPath) : Optional.empty();
            try {
                perCpu = jsonText.isPresent() && !jsonText.get().isBlank()
                        ? RtTestsOutput.parseCyclictestJson(jsonText.get())
                        : RtTestsOutput.parseCyclictestHistogram(r.stdout(), cpus.toList());
            } catch (IllegalArgumentException e) {
                throw OrchestratorException.data("cyclictest printed something this tool cannot read: " + e.getMessage());
            }
            return new ProbeResult("cyclictest", cpus, seconds, display(argv), policy, perCpu);
        } finally {
            if (json && host.exists(jsonPath)) {
                host.delete(jsonPath);
            }
        }
    }

    /**
     * {@code oslat --cpu-list CPUS --cpu-main-thread OTHER -D SECS [-b 1024 -z] [--rtprio P]}: one busy loop
     * per CPU; 1024 one-µs buckets (oslat's most) instead of its default 32, empty ones left out.
     */
    public ProbeResult oslat(String exe, CpuSet cpus, int seconds, ProbePolicy policy) {
        CpuSet others = online().difference(cpus);
        int main = others.isEmpty() ? cpus.first() : others.first();
        CommandRunner.Result help = runner.run(List.of(exe, "--help"), Duration.ofSeconds(10));
        String helpText = help.stdout() + help.stderr();
        List<String> argv = oslatArgv(exe, cpus, main, seconds, policy, helpText.contains("--bucket-size"),
                helpText.contains("--zero-omit"));
        CommandRunner.Result r = runner.run(argv, Duration.ofSeconds(seconds + 60L));
        failIfBad("oslat", r);
        try {
            return new ProbeResult("oslat", cpus, seconds, display(argv), policy, RtTestsOutput.parseOslat(r.stdout()));
        } catch (IllegalArgumentException e) {
            throw OrchestratorException.data("oslat printed something this tool cannot read: " + e.getMessage());
        }
    }

    /** The cyclictest command line the probe and the guest measurement share, before host-only options. */
    static List<String> cyclictestArgv(String exe, CpuSet cpus, int seconds, ProbePolicy policy) {
        return new ArrayList<>(List.of(exe, "-m", "-q",
                policy.kind() == ProbePolicy.Kind.FIFO ? "-p" + policy.priority() : "--policy=other",
                "-i200", "--histogram=" + HISTOGRAM_US, "--affinity=" + cpus, "-t", Integer.toString(cpus.size()),
                "-D", Integer.toString(seconds)));
    }

    /** The oslat command line the probe and the guest measurement share; SCHED_OTHER unless {@code --rtprio}. */
    static List<String> oslatArgv(String exe, CpuSet cpus, int mainCpu, int seconds, ProbePolicy policy,
            boolean bucketSize, boolean zeroOmit) {
        List<String> argv = new ArrayList<>(List.of(exe, "--cpu-list", cpus.toString(), "--cpu-main-thread",
                Integer.toString(mainCpu), "-D", Integer.toString(seconds)));
        if (bucketSize) {
            argv.addAll(List.of("--bucket-size", "1024"));
        }
        if (zeroOmit) {
            argv.add("--zero-omit");
        }
        if (policy.kind() == ProbePolicy.Kind.FIFO) {
            argv.addAll(List.of("--rtprio", Integer.toString(policy.priority())));
        }
        return argv;
    }

    private CpuSet online() {
        return host.read("/sys/devices/system/cpu/online").map(CpuSet::parseList).orElse(CpuSet.empty());
    }

    private static void failIfBad(String tool, CommandRunner.Result r) {
        if (r.exitCode() != 0) {
            String why = lastLine(r.stderr().isBlank() ? r.stdout() : r.stderr());
            throw OrchestratorException.data(tool + " failed (exit " + r.exitCode() + ")" + (why.isEmpty() ? "" : ": " + why)
                    + "; it needs root for SCHED_FIFO and mlockall, or try --tool java");
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }

    static String display(List<String> argv) {
        List<String> shown = new ArrayList<>();
        for (String a : argv) {
            shown.add(a.startsWith("--json=") ? "--json=FILE" : a);
        }
        shown.set(0, shown.get(0).substring(shown.get(0).lastIndexOf('/') + 1));
        return String.join(" ", shown);
    }
}
