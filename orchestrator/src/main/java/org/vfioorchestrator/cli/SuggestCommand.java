package org.vfioorchestrator.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.doctor.Suggester;
import org.vfioorchestrator.doctor.Suggestion;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "suggest", header = "Write a profile for a VM from the host's topology.", mixinStandardHelpOptions = true,
        description = {"Proposes a profile for a VM from the host's topology: the host keeps its first core, the VM "
            + "gets whole cores from one L3 group / NUMA node (the GPU's where possible), emulator and iothreads "
            + "stay on host CPUs. Prints the profile YAML and the matching <cputune> and guest topology."})
public final class SuggestCommand implements Callable<Integer> {
    private static final Pattern PCI = Pattern.compile("([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]");

    @Spec
    CommandSpec spec;

    @Mixin
    DomainSource source;

    @Mixin
    HostOptions host;

    @Option(names = "--gpu", paramLabel = "PCI-ADDRESS",
            description = "The pass-through GPU (0000:0b:00.0); default: the domain's first PCI <hostdev>.")
    String gpu;

    @Option(names = "--allow-mixed-cores", description = "On hybrid CPUs, allow P- and E-cores in one VM.")
    boolean allowMixed;

    @Option(names = "--output", paramLabel = "FILE", description = "Write the profile here (not overwritten unless --force).")
    Path output;

    @Option(names = "--force", description = "Overwrite --output if it exists.")
    boolean force;

    @Override
    public Integer call() {
        Domain domain = source.load();
        HostFs fs = host.open();
        Topology topology = TopologyReader.read(fs);
        if (topology.online().isEmpty()) {
            throw OrchestratorException.data(fs.root() + ": no online CPUs found under /sys/devices/system/cpu");
        }
        Optional<String> device = Optional.ofNullable(gpu).map(SuggestCommand::pciAddress)
                .or(() -> domain.pciHostdevs().stream().findFirst());
        Optional<Integer> node = device.flatMap(a -> numaNode(fs, a));
        Suggestion s = Suggester.suggest(topology, domain, node, allowMixed);
        String header = "vfio-orchestrator profile for " + domain.name() + ", suggested from " + domain.sourceName()
                + " on host " + fs.root() + device.map(d -> "; GPU " + d).orElse("");
        String yaml = Suggester.yaml(s, header, HostFacts.read(fs));
        String xml = Suggester.domainXml(s, domain);
        var out = spec.commandLine().getOut();
        if (output != null) {
            OutputFile.write(output, yaml, force);
            spec.commandLine().getErr().println("suggest: wrote " + output);
            out.println("<!-- the same pins in the domain XML ('virsh edit " + domain.name() + "'): -->");
            out.print(xml);
        } else {
            out.print(yaml);
            out.println("# the same pins in the domain XML ('virsh edit " + domain.name() + "'):");
            xml.lines().forEach(l -> out.println("#   " + l));
        }
        out.flush();
        return 0;
    }

    static String pciAddress(String text) {
        String a = text.strip().toLowerCase(Locale.ROOT);
        if (!PCI.matcher(a).matches()) {
            throw OrchestratorException.usage("--gpu " + text + ": not a PCI address; write it like 0000:0b:00.0"
                    + " (lspci -D shows them)");
        }
        return a.length() == 7 ? "0000:" + a : a;
    }

    private static Optional<Integer> numaNode(HostFs fs, String address) {
        return fs.read("/sys/bus/pci/devices/" + address + "/numa_node").map(String::strip).flatMap(v -> {
            try {
                int n = Integer.parseInt(v);
                return n >= 0 ? Optional.of(n) : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }
}
