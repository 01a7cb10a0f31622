package org.vfioorchestrator.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;
import org.vfioorchestrator.topology.TopologyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code topology}: shows packages, L3 groups, cores and SMT siblings, NUMA nodes and core types. */
@Command(name = "topology", header = "Show the host's CPUs: packages, L3 groups, cores, NUMA nodes.",
        mixinStandardHelpOptions = true,
        description = {"Shows the host's CPUs: packages, L3 groups, cores, NUMA nodes. "
            + "L3 groups are AMD CCXs/CCDs; each core lists its SMT siblings; P-/E-cores "
            + "(Intel hybrid) and offline CPUs are shown when the host has them."})
public final class TopologyCommand implements Callable<Integer> {

    @Mixin
    HostOptions hostOptions;

    @Option(names = "--json", description = "Print JSON instead of text; CPU sets in the kernel's list format.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Topology topology = TopologyReader.read(hostOptions.open());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(TopologyReport.json(topology)));
        } else {
            out.print(TopologyReport.text(topology));
        }
        return 0;
    }
}
