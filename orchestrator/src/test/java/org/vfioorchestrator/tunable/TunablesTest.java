package org.vfioorchestrator.tunable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.profile.ProfileSection;
import org.vfioorchestrator.profile.YamlNode;

/**
 * The registry and the extension point: a section the loader is given is read and checked like the built-in
 * ones, and plans group changes in the registry's order.
 */
class TunablesTest {
    private static final Path RIG = Path.of(System.getProperty("repo.root"), "examples/hosts/gaming-rig");

    /** A section such as a new tunable brings: {@code hugepages: none|some|all}. */
    private static final ProfileSection<String> HUGEPAGES = new ProfileSection<>() {
        @Override
        public String name() {
            return "hugepages";
        }

        @Override
        public Set<String> keys() {
            return Set.of();
        }

        @Override
        public String defaults() {
            return "none";
        }

        @Override
        public String parse(YamlNode node, Input in) {
            String v = in.walk().scalar(node, "hugepages", "none, some or all");
            if (v != null && !List.of("none", "some", "all").contains(v)) {
                in.walk().problem(node, "hugepages", "'" + v + "' is not allowed; write none, some or all");
            }
            return v;
        }
    };

    private static Profile parse(List<ProfileSection<?>> sections, String yaml) {
        return new ProfileLoader(HostFacts.read(HostFs.open(RIG)), sections)
                .parse(yaml.getBytes(StandardCharsets.UTF_8), "p.yaml", "win11");
    }

    @Test
    void eachSectionHasItsOwnTopLevelKey() {
        Set<String> names = new HashSet<>();
        for (ProfileSection<?> s : Tunables.sections()) {
            assertEquals(true, names.add(s.name()), "two tunables own " + s.name());
        }
        assertEquals(Set.of("cgroups", "partition", "irqs", "workqueues", "governor", "cstates"), names);
    }

    @Test
    void aRegisteredSectionIsReadCheckedAndGivenBack() {
        List<ProfileSection<?>> sections = new ArrayList<>(Tunables.sections());
        sections.add(HUGEPAGES);
        String core = "host_cpus: 0-7,16-23\nvcpus: {pin: [8, 24]}\n";
        assertEquals("all", parse(sections, core + "hugepages: all\n").settings(HUGEPAGES));
        assertEquals("none", parse(sections, core).settings(HUGEPAGES), "its default where the profile leaves it out");
        OrchestratorException bad = assertThrows(OrchestratorException.class,
                () -> parse(sections, core + "hugepages: most\n"));
        assertEquals(List.of("p.yaml:3:12: hugepages: 'most' is not allowed; write none, some or all"), bad.problems());
    }

    @Test
    void anUnregisteredSectionIsAnUnknownKey() {
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> parse(Tunables.sections(), "host_cpus: 0-7,16-23\nvcpus: {pin: [8, 24]}\nhugepages: all\n"));
        assertEquals(List.of("p.yaml:3:1: hugepages: unknown key Allowed here: cgroups, cstates,"
                + " emulator_cpus, governor, host_cpus, iothread_cpus, irqs, measure, partition, vcpus, vm, workqueues"), e.problems());
    }

    @Test
    void aPlanShowsItsGroupsInTheRegistrysOrder() {
        PlanService plans = new PlanService(HostFs.open(RIG));
        Profile p = plans.load(Path.of(System.getProperty("repo.root"), "examples/profiles/win11.yaml"));
        List<String> titles = new ArrayList<>();
        for (ChangeKind kind : plans.plan(List.of(p)).kinds()) {
            titles.add(kind.title());
        }
        assertEquals(List.of("cpusets", "partition", "threads", "IRQs", "workqueues", "governor", "C-states"), titles);
    }
}
