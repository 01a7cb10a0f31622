package org.vfioorchestrator.cli;

import java.nio.file.Path;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.libvirt.LibvirtClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code VM [--connect URI] | --domain FILE}: where doctor and suggest get the domain XML; picocli refuses both. */
public final class DomainSource {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @ArgGroup(exclusive = false)
        FromLibvirt libvirt;

        @ArgGroup(exclusive = false)
        FromFile file;
    }

    /** A group of its own, so that picocli names both forms when a user gives both. */
    static final class FromFile {
        @Option(names = "--domain", paramLabel = "FILE", required = true, description = "Domain XML file instead of"
                + " asking libvirt ('virsh dumpxml VM > FILE').")
        Path path;
    }

    static final class FromLibvirt {
        @Parameters(index = "0", paramLabel = "VM",
                description = "Name of a libvirt domain; its XML is read from libvirtd (read-only).")
        String vm;

        @Option(names = "--connect", paramLabel = "URI", defaultValue = LibvirtClient.SYSTEM_URI,
                description = "libvirt URI used with VM. Default: ${DEFAULT-VALUE}")
        String uri;
    }

    public Domain load() {
        if (choice.file != null) {
            return DomainXml.read(choice.file.path);
        }
        FromLibvirt l = choice.libvirt;
        return DomainXml.parse(new LibvirtClient(l.uri).domainXml(l.vm), l.uri + " domain " + l.vm);
    }
}
