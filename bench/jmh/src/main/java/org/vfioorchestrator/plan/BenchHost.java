package org.vfioorchestrator.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;

/**
 * A benchmark host of bench/gen-hosts.sh (bench/out/hosts/cpus-N and its profile cpus-N.yaml, for the
 * VM win11 that runs there), read once: what the benchmarks' set-up needs, outside the timed part.
 */
final class BenchHost {
    final HostFs host;
    final Profile profile;
    final HostSnapshot snapshot;

    BenchHost(int cpus) throws IOException {
        Path hosts = Path.of(System.getProperty("bench.hosts", "bench/out/hosts"));
        Path dir = hosts.resolve("cpus-" + cpus);
        Path profileFile = hosts.resolve("cpus-" + cpus + ".yaml");
        if (!Files.isDirectory(dir) || !Files.isRegularFile(profileFile)) {
            throw new IllegalStateException("no benchmark host " + dir + " (run bench/gen-hosts.sh)");
        }
        host = HostFs.open(dir);
        HostFacts facts = HostFacts.read(host);
        profile = new ProfileLoader(facts).parse(Files.readAllBytes(profileFile), profileFile.toString(), "win11");
        snapshot = new HostSnapshotReader(host).read(facts.topology(), Profile.vmsOf(List.of(profile)), profile.cgroups(),
                Planner.readScope(facts.topology(), List.of(profile)));
    }
}
