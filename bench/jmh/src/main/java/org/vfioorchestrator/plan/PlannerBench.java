package org.vfioorchestrator.plan;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.vfioorchestrator.host.ProcInterrupts;

/**
 * The two single functions whose cost grows with the host (bench/jmh.sh runs them on the benchmark
 * hosts of bench/gen-hosts.sh): the planner itself, given a snapshot already read, and the parse of
 * /proc/interrupts (a row per IRQ, a column per CPU: 145 MB at 1024 CPUs), given its bytes.
 * Whole-process and I/O-inclusive numbers come from bench/plan-scaling.sh.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PlannerBench {
    @Param({"16", "64", "256", "1024"})
    int cpus;

    private HostSnapshot snapshot;
    private List<org.vfioorchestrator.profile.Profile> profiles;
    private byte[] interrupts;

    @Setup
    public void read() throws IOException {
        BenchHost h = new BenchHost(cpus);
        snapshot = h.snapshot;
        profiles = List.of(h.profile);
        interrupts = h.host.readStream("/proc/interrupts").orElseThrow().readAllBytes();
    }

    /** Planner.plan: every change for the VM, from the snapshot (pure: no file is read). */
    @Benchmark
    public Plan plan() {
        return Planner.plan(snapshot, profiles);
    }

    /** The streamed read of /proc/interrupts a plan makes: each row's chip and actions, counts passed over. */
    @Benchmark
    public ProcInterrupts.Table describeInterrupts() throws IOException {
        return ProcInterrupts.read(new ByteArrayInputStream(interrupts), false);
    }
}
