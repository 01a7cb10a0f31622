package org.vfioorchestrator.profile;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.profile.Profile.MeasurePolicy;
import org.vfioorchestrator.topology.CpuAllocator;
import org.vfioorchestrator.tunable.Tunables;

/**
 * Reads a profile and checks it against the host. Every problem is collected
 * with its file, line and column, the key, and what to write instead; all of
 * them are reported together in one {@link OrchestratorException}.
 */
public final class ProfileLoader {
    /** A profile is a page of YAML; anything this big is a mistake or an attack. */
    static final int MAX_BYTES = 64 * 1024;

    /** The keys the loader reads itself; every other top-level key is a tunable's section. */
    private static final Set<String> CORE_KEYS = Set.of("vm", "host_cpus", "vcpus", "emulator_cpus", "iothread_cpus", "measure");

    private final HostFacts host;
    private final List<ProfileSection<?>> sections;
    /** The keys allowed in each mapping: "" is the top level. */
    private final Map<String, Set<String>> schema = new LinkedHashMap<>();

    /** A loader for the sections of every registered tunable. */
    public ProfileLoader(HostFacts host) {
        this(host, Tunables.sections());
    }

    public ProfileLoader(HostFacts host, List<ProfileSection<?>> sections) {
        this.host = host;
        this.sections = List.copyOf(sections);
        Set<String> top = new HashSet<>(CORE_KEYS);
        for (ProfileSection<?> section : sections) {
            top.add(section.name());
            schema.put(section.name(), section.keys());
        }
        schema.put("", Set.copyOf(top));
        schema.put("vcpus", Set.of("pin", "count", "from"));
        schema.put("measure", Set.of("after_start", "duration", "max_latency_us", "in_guest"));
    }

    /** Reads and validates a profile file; the VM name defaults to the file name without {@code .yaml}. */
    public Profile load(Path file) {
        return load(ProfileFile.read(file, false));
    }

    /** Validates a profile read before; the VM name defaults to the file name without {@code .yaml}. */
    public Profile load(ProfileFile file) {
        if (file.bytes().length > MAX_BYTES) {
            throw OrchestratorException.data(file.path() + ": profile is larger than " + MAX_BYTES / 1024
                    + " KiB; a profile is a page of YAML, check you named the right file");
        }
        return parse(file.bytes(), file.path().toString(), file.defaultVm());
    }

    /** Validates profile text; {@code defaultVm} is used when the profile has no {@code vm:} key. */
    public Profile parse(byte[] bytes, String source, String defaultVm) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw OrchestratorException.data(source + ": not UTF-8 text; save the profile as UTF-8");
        }
        YamlNode root = ProfileYaml.read(text, source);
        ProfileWalk w = new ProfileWalk(source, schema);
        return new Reader(w, host, sections, defaultVm, text).read(root);
    }

    /** Reads the node tree into a Profile, checking values against the host as it goes. */
    private static final class Reader {
        private final ProfileWalk w;
        private final HostFacts host;
        private final List<ProfileSection<?>> sections;
        private final String defaultVm;
        private final String text;

        Reader(ProfileWalk w, HostFacts host, List<ProfileSection<?>> sections, String defaultVm, String text) {
            this.text = text;
            this.w = w;
            this.host = host;
            this.sections = sections;
            this.defaultVm = defaultVm;
        }

        Profile read(YamlNode root) {
            Map<String, YamlNode> top = w.mapping(root, "");
            String vm = defaultVm;
            if (top.containsKey("vm")) {
                vm = w.scalar(top.get("vm"), "vm", "the libvirt domain name");
            }
            if (vm != null && !ProfileStore.isSafeName(vm)) {
                w.problem(top.getOrDefault("vm", root), "vm", "'" + vm
                        + "' is not a usable VM name; use letters, digits, '.', '_', '+' or '-' (at most 128)");
            }

            CpuSet hostCpus = null;
            if (!top.containsKey("host_cpus")) {
                w.problem(root, "host_cpus", "missing; name the CPUs the host keeps while the VM runs, e.g. host_cpus: 0,16");
            } else {
                hostCpus = onlineCpus(top.get("host_cpus"), "host_cpus");
                if (hostCpus != null && hostCpus.isEmpty()) {
                    w.problem(top.get("host_cpus"), "host_cpus", "empty; the host needs at least one CPU, e.g. host_cpus: 0,16");
                    hostCpus = null;
                }
            }

            List<Integer> pins = vcpus(top.get("vcpus"), root, hostCpus);
            CpuSet emulator = top.containsKey("emulator_cpus") ? onlineCpus(top.get("emulator_cpus"), "emulator_cpus") : hostCpus;
            CpuSet iothreads = top.containsKey("iothread_cpus") ? onlineCpus(top.get("iothread_cpus"), "iothread_cpus") : emulator;
            if (emulator != null && emulator.isEmpty()) {
                w.problem(top.get("emulator_cpus"), "emulator_cpus", "empty; give at least one CPU, usually the host's");
            }
            if (iothreads != null && iothreads.isEmpty() && top.containsKey("iothread_cpus")) { // else emulator_cpus's problem
                w.problem(top.get("iothread_cpus"), "iothread_cpus", "empty; give at least one CPU, usually the host's");
            }

            Map<String, Object> settings = new LinkedHashMap<>();
            ProfileSection.Input in = new ProfileSection.Input(w, host, List.copyOf(pins));
            for (ProfileSection<?> section : sections) {
                YamlNode node = top.get(section.name());
                settings.put(section.name(), node == null ? section.defaults() : section.parse(node, in));
            }
            MeasurePolicy measure = measure(top.get("measure"));

            if (!w.problems.isEmpty()) {
                throw new OrchestratorException(ExitCode.HOST_OR_DATA, w.problems);
            }
            return new Profile(vm, w.source, text, hostCpus, List.copyOf(pins), emulator, top.containsKey("emulator_cpus"),
                    iothreads, settings, measure);
        }

        /** A CPU list whose CPUs all exist and are online on this host. */
        private CpuSet onlineCpus(YamlNode n, String key) {
            CpuSet s = w.cpus(n, key);
            if (s == null) {
                return null;
            }
            CpuSet missing = s.difference(host.present());
            CpuSet offline = s.intersection(host.present()).difference(host.online());
            if (!missing.isEmpty()) {
                w.problem(n, key, "CPU " + missing + " does not exist on this host (it has CPUs " + host.present()
                        + "); use CPUs from " + host.online());
                return null;
            }
            if (!offline.isEmpty()) {
                w.problem(n, key, "CPU " + offline + " is offline; use online CPUs (" + host.online()
                        + ") or bring it online first");
                return null;
            }
            return s;
        }

        private List<Integer> vcpus(YamlNode n, YamlNode root, CpuSet hostCpus) {
            List<Integer> pins = new ArrayList<>();
            if (n == null) {
                w.problem(root, "vcpus", "missing; give the vCPU pins, e.g. vcpus: {pin: [2, 18, 3, 19]} or {pin: auto, count: 4}");
                return pins;
            }
            Map<String, YamlNode> m = w.mapping(n, "vcpus");
            YamlNode pin = m.get("pin");
            if (pin == null) {
                w.problem(n, "vcpus.pin", "missing; write a list of host CPUs (one per vCPU) or 'auto'");
                return pins;
            }
            if (pin instanceof YamlNode.Scalar s && "auto".equals(s.value())) {
                Integer count = m.containsKey("count") ? w.integer(m.get("count"), "vcpus.count", 1, 4096) : null;
                if (!m.containsKey("count")) {
                    w.problem(pin, "vcpus.count", "missing; with pin: auto, say how many vCPUs (the <vcpu> of the domain)");
                }
                CpuSet from = m.containsKey("from") ? onlineCpus(m.get("from"), "vcpus.from") : null;
                if (count == null || hostCpus == null || (m.containsKey("from") && from == null)) {
                    return pins;
                }
                CpuSet pool = (from == null ? host.online() : from).difference(hostCpus);
                // the allocator suggest uses, so that pin: auto and suggest choose the same CPUs
                CpuAllocator.Request request = new CpuAllocator.Request(count, hostCpus, pool, Optional.empty(), false);
                Optional<CpuAllocator.Allocation> chosen = CpuAllocator.allocate(host.topology(), request);
                if (chosen.isEmpty()) {
                    w.problem(pin, "vcpus.pin", "auto: at most " + CpuAllocator.mostThatFit(host.topology(), request)
                            + " vCPUs fit on whole cores" + (host.topology().hybrid() ? " of one type (P or E)" : "")
                            + " outside host_cpus (" + pool + "); lower vcpus.count or give fewer host_cpus");
                    return pins;
                }
                return chosen.get().pins();
            }
            if (m.containsKey("count") || m.containsKey("from")) {
                w.problem(m.containsKey("count") ? m.get("count") : m.get("from"), "vcpus",
                        "count and from only go with pin: auto; remove them or write pin: auto");
            }
            if (!(pin instanceof YamlNode.Sequence seq)) {
                w.problem(pin, "vcpus.pin", "expected a list of host CPUs like [2, 18, 3, 19] or 'auto'");
                return pins;
            }
            if (!w.firstVisit(pin, "vcpus.pin")) {
                return pins;
            }
            Map<Integer, Integer> vcpuOf = new LinkedHashMap<>();
            List<YamlNode> items = seq.items();
            if (items.isEmpty()) {
                w.problem(pin, "vcpus.pin", "empty; give one host CPU per vCPU");
            }
            for (int i = 0; i < items.size(); i++) {
                YamlNode item = items.get(i);
                String key = "vcpus.pin[" + i + "]";
                Integer cpu = w.integer(item, key, 0, CpuSet.MAX_CPUS - 1);
                if (cpu == null) {
                    continue;
                }
                if (!host.present().contains(cpu)) {
                    w.problem(item, key, "CPU " + cpu + " does not exist on this host (it has CPUs " + host.present()
                            + "); use CPUs from " + host.online());
                } else if (!host.online().contains(cpu)) {
                    w.problem(item, key, "CPU " + cpu + " is offline; use online CPUs (" + host.online() + ")");
                } else if (hostCpus != null && hostCpus.contains(cpu)) {
                    w.problem(item, key, "CPU " + cpu + " is also in host_cpus (" + hostCpus
                            + "); a vCPU needs a CPU the host gives up; remove it from one of them");
                } else if (vcpuOf.containsKey(cpu)) {
                    w.problem(item, key, "CPU " + cpu + " is already pinned to vCPU " + vcpuOf.get(cpu)
                            + "; give each vCPU its own CPU");
                } else {
                    vcpuOf.put(cpu, i);
                }
                pins.add(cpu);
            }
            return pins;
        }

        private MeasurePolicy measure(YamlNode n) {
            boolean after = false;
            Duration d = Duration.ofSeconds(30);
            OptionalInt max = OptionalInt.empty();
            boolean inGuest = false;
            if (n != null) {
                Map<String, YamlNode> m = w.mapping(n, "measure");
                if (m.containsKey("after_start")) {
                    Boolean b = w.bool(m.get("after_start"), "measure.after_start");
                    after = b != null && b;
                }
                if (m.containsKey("duration")) {
                    Duration parsed = w.duration(m.get("duration"), "measure.duration");
                    d = parsed == null ? d : parsed;
                }
                if (m.containsKey("max_latency_us")) {
                    Integer i = w.integer(m.get("max_latency_us"), "measure.max_latency_us", 1, 10_000_000);
                    max = i == null ? max : OptionalInt.of(i);
                }
                if (m.containsKey("in_guest")) {
                    Boolean b = w.bool(m.get("in_guest"), "measure.in_guest");
                    inGuest = b != null && b;
                }
            }
            return new MeasurePolicy(after, d, max, inGuest);
        }
    }
}
