package org.vfioorchestrator.cli;

import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.ProfileFile;
import org.vfioorchestrator.profile.ProfileStore;
import picocli.CommandLine.Option;

/** {@code --profile FILE}, or the VM's installed profile. */
final class ProfileArgs {
    @Option(names = "--profile", paramLabel = "FILE",
            description = "Profile to use instead of " + ProfileStore.DIR + "/VM.yaml.")
    Path profile;

    /**
     * The profile, read. With {@code changesLiveHost} (apply on the real machine), a {@code --profile FILE}
     * must pass an installed profile's checks; on a host tree nothing real changes, so a checkout's
     * example profile works whatever the umask made of its mode.
     */
    ProfileFile locate(HostFs host, String vm, boolean changesLiveHost) {
        if (profile != null) {
            return changesLiveHost ? ProfileStore.readTrustedFile(profile) : ProfileFile.read(profile, false);
        }
        return ProfileStore.find(host, vm).orElseThrow(() -> OrchestratorException.data("VM " + vm + " has no profile at "
                + host.resolve(ProfileStore.pathOf(vm)) + "; write one (vfio-orchestrator suggest " + vm
                + ") or pass --profile FILE"));
    }
}
