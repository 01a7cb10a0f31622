package org.vfioorchestrator.doctor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Runs every check on one VM's setup; pure apart from reading the host through HostFs. */
public final class Doctor {
    private Doctor() {
    }

    public static List<Finding> examine(DoctorInput in) {
        List<Finding> out = new ArrayList<>();
        DiskChecks.run(in, out);
        IoThreadChecks.run(in, out);
        CpuChecks.run(in, out);
        HostChecks.run(in, out);
        out.sort(Comparator.comparing(Finding::severity));
        return List.copyOf(out);
    }

    /** Exit status doctor reports: 1 when anything is at warning or above. */
    public static int exitCode(List<Finding> findings) {
        return findings.stream().anyMatch(f -> f.severity().atLeastWarning()) ? 1 : 0;
    }
}
