package org.vfioorchestrator.plan;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.domain.DomainFacts;
import org.vfioorchestrator.profile.Profile;

/** Checks that a profile fits the VM libvirt will start: same name, one pin per vCPU. */
public final class DomainCheck {
    private DomainCheck() {
    }

    public static List<String> problems(Profile p, DomainFacts d) {
        List<String> out = new ArrayList<>();
        if (!d.name().equals(p.vm())) {
            out.add(d.sourceName() + ": the domain is '" + d.name() + "' but " + p.source() + " is for '" + p.vm()
                    + "'; name the profile after the domain (" + d.name() + ".yaml) or set vm: " + d.name());
        }
        if (d.vcpus() != p.vcpuPins().size()) {
            out.add(d.sourceName() + ": <vcpu> is " + d.vcpus() + " but " + p.source() + " pins " + p.vcpuPins().size()
                    + " vCPUs (vcpus.pin); give one host CPU per vCPU, or change <vcpu> to " + p.vcpuPins().size());
        }
        return out;
    }

    public static void check(Profile p, DomainFacts d) {
        List<String> problems = problems(p, d);
        if (!problems.isEmpty()) {
            throw new OrchestratorException(ExitCode.HOST_OR_DATA, problems);
        }
    }
}
