package org.vfioorchestrator.cli;

import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.libvirt.LibvirtClient;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code VM | --domain FILE}: where doctor and suggest get the domain XML. */
public final class DomainSource {
    @Parameters(index = "0", arity = "0..1", paramLabel = "VM",
            description = "Name of a libvirt domain; its XML is read from libvirtd (read-only).")
    String vm;

    @Option(names = "--domain", paramLabel = "FILE", description = "Domain XML file instead of asking libvirt"
            + " ('virsh dumpxml VM > FILE').")
    Path domainFile;

    @Option(names = "--connect", paramLabel = "URI", defaultValue = LibvirtClient.SYSTEM_URI,
            description = "libvirt URI used with VM. Default: ${DEFAULT-VALUE}")
    String uri;

    public Domain load() {
        if ((vm == null) == (domainFile == null)) {
            throw OrchestratorException.usage("give either a VM name or --domain FILE");
        }
        if (domainFile != null) {
            return DomainXml.read(domainFile);
        }
        return DomainXml.parse(new LibvirtClient(uri).domainXml(vm), uri + " domain " + vm);
    }
}
