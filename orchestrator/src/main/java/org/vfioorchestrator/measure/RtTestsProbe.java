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
     * [--json=FILE]}: one SCHED_FIFO thread per CPU, waking every 200 µs.
     */
    public ProbeResult cyclictest(String exe, CpuSet cpus, int seconds) {
        CommandRunner.Result help = runner.run(List.of(exe, "--help"), Duration.ofSeconds(10));
        String helpText = help.stdout() + help.stderr();
        boolean json = helpText.contains("--json");
        boolean mainAffinity = helpText.contains("--mainaffinity");
        List<String> argv = new ArrayList<>(List.of(exe, "-m", "-q", "-p95", "-i200", "--histogram=" + HISTOGRAM_US,
                "--affinity=" + cpus, "-t", Integer.toString(cpus.size()), "-D", Integer.toString(seconds)));
        CpuSet others = online().difference(cpus);
        if (mainAffinity && !others.isEmpty()) {
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
            return new ProbeResult("cyclictest", cpus, seconds, display(argv), perCpu);
        } finally {
            if (json && host.exists(jsonPath)) {
                host.delete(jsonPath);
            }
        }
    }

    /**
     * {@code oslat --cpu-list CPUS --cpu-main-thread OTHER -D SECS [-b 1024 -z]}: one busy loop per
     * CPU; 1024 one-µs buckets (oslat's most) instead of its default 32, empty ones left out.
     */
    public ProbeResult oslat(String exe, CpuSet cpus, int seconds) {
        CpuSet others = online().difference(cpus);
        int main = others.isEmpty() ? cpus.first() : others.first();
        CommandRunner.Result help = runner.run(List.of(exe, "--help"), Duration.ofSeconds(10));
        String helpText = help.stdout() + help.stderr();
        List<String> argv = new ArrayList<>(List.of(exe, "--cpu-list", cpus.toString(), "--cpu-main-thread",
                Integer.toString(main), "-D", Integer.toString(seconds)));
        if (helpText.contains("--bucket-size")) {
            argv.addAll(List.of("--bucket-size", "1024"));
        }
        if (helpText.contains("--zero-omit")) {
            argv.add("--zero-omit");
        }
        CommandRunner.Result r = runner.run(argv, Duration.ofSeconds(seconds + 60L));
        failIfBad("oslat", r);
        try {
            return new ProbeResult("oslat", cpus, seconds, display(argv), RtTestsOutput.parseOslat(r.stdout()));
        } catch (IllegalArgumentException e) {
            throw OrchestratorException.data("oslat printed something this tool cannot read: " + e.getMessage());
        }
    }

    private CpuSet online() {
        return host.read("/sys/devices/system/cpu/online").map(CpuSet::parseList).orElse(CpuSet.empty());
    }

    private static void failIfBad(String tool, CommandRunner.Result r) {
        if (r.exitCode() != 0) {
            String why = lastLine(r.stderr().isBlank() ? r.stdout() : r.stderr());
            throw OrchestratorException.data(tool + " failed (exit " + r.exitCode() + ")" + (why.isEmpty() ? "" : ": " + why)
                    + "; it needs root for SCHED_FIFO and mlockall, or try --probe-tool java");
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }

    private String display(List<String> argv) {
        List<String> shown = new ArrayList<>();
        for (String a : argv) {
            shown.add(a.startsWith("--json=") ? "--json=FILE" : a);
        }
        shown.set(0, shown.get(0).substring(shown.get(0).lastIndexOf('/') + 1));
        return String.join(" ", shown);
    }
}
