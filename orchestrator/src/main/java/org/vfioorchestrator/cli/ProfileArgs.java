package org.vfioorchestrator.cli;

import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.ProfileStore;
import picocli.CommandLine.Option;

/** {@code --profile FILE}, or the VM's installed profile. */
final class ProfileArgs {
    @Option(names = "--profile", paramLabel = "FILE",
            description = "Profile to use instead of " + ProfileStore.DIR + "/VM.yaml.")
    Path profile;

    Path locate(HostFs host, String vm) {
        if (profile != null) {
            return profile;
        }
        return ProfileStore.find(host, vm).orElseThrow(() -> OrchestratorException.data("VM " + vm + " has no profile at "
                + host.resolve(ProfileStore.pathOf(vm)) + "; write one (vfio-orchestrator suggest " + vm
                + ") or pass --profile FILE"));
    }
}
