package org.vfioorchestrator.profile;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.measure.Durations;
import org.vfioorchestrator.profile.Profile.CStateMethod;
import org.vfioorchestrator.profile.Profile.CStatePolicy;
import org.vfioorchestrator.profile.Profile.CgroupMode;
import org.vfioorchestrator.profile.Profile.CgroupPolicy;
import org.vfioorchestrator.profile.Profile.IrqPolicy;
import org.vfioorchestrator.profile.Profile.MeasurePolicy;
import org.vfioorchestrator.profile.Profile.PassthroughIrqs;
import org.vfioorchestrator.profile.Profile.WorkqueuePolicy;
import org.vfioorchestrator.topology.CpuAllocator;

/**
 * Reads a profile and checks it against the host. Every problem is collected
 * with its file, line and column, the key, and what to write instead; all of
 * them are reported together in one {@link OrchestratorException}.
 */
public final class ProfileLoader {
    /** A profile is a page of YAML; anything this big is a mistake or an attack. */
    static final int MAX_BYTES = 64 * 1024;

    private static final Map<String, Set<String>> SCHEMA = new LinkedHashMap<>();

    static {
        SCHEMA.put("", Set.of("vm", "host_cpus", "vcpus", "emulator_cpus", "iothread_cpus", "irqs", "workqueues",
                "governor", "cstates", "cgroups", "measure"));
        SCHEMA.put("vcpus", Set.of("pin", "count", "from"));
        SCHEMA.put("irqs", Set.of("move_to_host", "passthrough"));
        SCHEMA.put("workqueues", Set.of("move_to_host", "also"));
        SCHEMA.put("cstates", Set.of("method", "max_latency_us"));
        SCHEMA.put("cgroups", Set.of("mode", "root", "keep"));
        SCHEMA.put("measure", Set.of("after_start", "duration", "max_latency_us"));
    }

    private final HostFacts host;

    public ProfileLoader(HostFacts host) {
        this.host = host;
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
        Walk w = new Walk(source);
        return new Reader(w, host, defaultVm, text).read(root);
    }

    /** Collects problems with positions; values of the wrong kind are reported and replaced by null. */
    static final class Walk {
        final String source;
        final List<String> problems = new ArrayList<>();
        private final Map<YamlNode, Boolean> seen = new IdentityHashMap<>();

        Walk(String source) {
            this.source = source;
        }

        void problem(YamlNode at, String key, String message) {
            problems.add(source + ":" + at.line() + ":" + at.column() + ": " + key + ": " + message);
        }

        /** A node reached twice is a YAML alias; profiles are small and never need them. */
        boolean firstVisit(YamlNode n, String key) {
            if (seen.put(n, Boolean.TRUE) != null) {
                problem(n, key, "YAML aliases (*name) are not allowed in a profile; write the value out");
                return false;
            }
            return true;
        }

        Map<String, YamlNode> mapping(YamlNode n, String key) {
            if (!(n instanceof YamlNode.Mapping mn)) {
                problem(n, key.isEmpty() ? "profile" : key, "expected a mapping of keys (" + String.join(", ",
                        sorted(SCHEMA.get(key))) + ")");
                return Map.of();
            }
            if (!firstVisit(n, key)) {
                return Map.of();
            }
            Map<String, YamlNode> out = new LinkedHashMap<>();
            Set<String> allowed = SCHEMA.get(key);
            for (YamlNode.Entry t : mn.entries()) {
                String k = t.key() instanceof YamlNode.Scalar s ? s.value() : null;
                String full = key.isEmpty() ? String.valueOf(k) : key + "." + k;
                if (k == null) {
                    problem(t.key(), key.isEmpty() ? "profile" : key, "keys must be plain words");
                } else if (!allowed.contains(k)) {
                    String hint = closest(k, allowed);
                    problem(t.key(), full, "unknown key" + (hint == null ? "" : "; did you mean '" + hint + "'?")
                            + " Allowed here: " + String.join(", ", sorted(allowed)));
                } else if (out.containsKey(k)) {
                    problem(t.key(), full, "given twice; keep one");
                } else {
                    out.put(k, t.value());
                }
            }
            return out;
        }

        String scalar(YamlNode n, String key, String expected) {
            if (n instanceof YamlNode.Scalar s && firstVisit(n, key)) {
                return s.value();
            }
            if (!(n instanceof YamlNode.Scalar)) {
                problem(n, key, "expected " + expected + ", not a " + kind(n));
            }
            return null;
        }

        Boolean bool(YamlNode n, String key) {
            String v = scalar(n, key, "true or false");
            if (v == null) {
                return null;
            }
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on" -> Boolean.TRUE;
                case "false", "no", "off" -> Boolean.FALSE;
                default -> {
                    problem(n, key, "'" + v + "' is not true or false");
                    yield null;
                }
            };
        }

        Integer integer(YamlNode n, String key, int min, int max) {
            String v = scalar(n, key, "a whole number");
            if (v == null) {
                return null;
            }
            BigInteger i;
            try {
                i = new BigInteger(v.strip()); // any number of digits: one too large for an int is out of range, not malformed
            } catch (NumberFormatException e) {
                problem(n, key, "'" + v + "' is not a whole number");
                return null;
            }
            if (i.compareTo(BigInteger.valueOf(min)) < 0 || i.compareTo(BigInteger.valueOf(max)) > 0) {
                problem(n, key, i + " is out of range; write a number from " + min + " to " + max);
                return null;
            }
            return i.intValueExact();
        }

        CpuSet cpus(YamlNode n, String key) {
            String v = scalar(n, key, "a CPU list such as 0-3,8");
            if (v == null) {
                return null;
            }
            try {
                return CpuSet.parseList(v);
            } catch (CpuSetFormatException e) {
                problem(n, key, "bad CPU list " + e.getMessage() + "; write it like 0-3,8,10-11");
                return null;
            }
        }

        <E extends Enum<E>> E choice(YamlNode n, String key, Class<E> type) {
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                names.add(e.name().toLowerCase(Locale.ROOT));
            }
            String v = scalar(n, key, "one of " + String.join(", ", names));
            if (v == null) {
                return null;
            }
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(v)) {
                    return e;
                }
            }
            problem(n, key, "'" + v + "' is not allowed; write one of " + String.join(", ", names));
            return null;
        }

        List<String> words(YamlNode n, String key) {
            if (!(n instanceof YamlNode.Sequence seq)) {
                problem(n, key, "expected a list like [writeback], not a " + kind(n));
                return null;
            }
            List<String> out = new ArrayList<>();
            for (YamlNode item : seq.items()) {
                String v = scalar(item, key, "a name");
                if (v != null) {
                    out.add(v);
                }
            }
            return out;
        }

        /** A duration as {@code measure --duration} takes it ({@link Durations}): 30, 30s, 2m, 1h or 500ms. */
        Duration duration(YamlNode n, String key) {
            String v = scalar(n, key, "a duration such as 30s");
            if (v == null) {
                return null;
            }
            try {
                return Durations.parse(v);
            } catch (IllegalArgumentException e) {
                problem(n, key, e.getMessage());
                return null;
            }
        }

        private static String kind(YamlNode n) {
            return n instanceof YamlNode.Mapping ? "mapping" : n instanceof YamlNode.Sequence ? "list" : "single value";
        }
    }

    private static List<String> sorted(Set<String> s) {
        List<String> out = new ArrayList<>(s);
        Collections.sort(out);
        return out;
    }

    /** A name that can only mean a directory right under /sys/devices/virtual/workqueue/: letters, digits, _ . -, not "." or "..". */
    private static boolean isWorkqueueName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            return false; // "." would name the unbound workqueues' own cpumask a second time
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "_.-".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    /** The allowed key nearest to a typo, if it is near enough to be a typo. */
    static String closest(String key, Set<String> allowed) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : sorted(allowed)) {
            if (key.length() >= 3 && a.startsWith(key.toLowerCase(Locale.ROOT))) {
                return a; // 'move' for 'move_to_host'
            }
        }
        for (String a : allowed) {
            int d = editDistance(key.toLowerCase(Locale.ROOT), a);
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Reads the node tree into a Profile, checking values against the host as it goes. */
    private static final class Reader {
        private final Walk w;
        private final HostFacts host;
        private final String defaultVm;
        private final String text;

        Reader(Walk w, HostFacts host, String defaultVm, String text) {
            this.text = text;
            this.w = w;
            this.host = host;
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

            IrqPolicy irqs = irqs(top.get("irqs"));
            WorkqueuePolicy wq = workqueues(top.get("workqueues"));
            String governor = governor(top.get("governor"), pins);
            CStatePolicy cstates = cstates(top.get("cstates"));
            CgroupPolicy cgroups = cgroups(top.get("cgroups"));
            MeasurePolicy measure = measure(top.get("measure"));

            if (!w.problems.isEmpty()) {
                throw new OrchestratorException(ExitCode.HOST_OR_DATA, w.problems);
            }
            return new Profile(vm, w.source, text, hostCpus, List.copyOf(pins), emulator, top.containsKey("emulator_cpus"),
                    iothreads, irqs, wq, governor, cstates, cgroups, measure);
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

        private IrqPolicy irqs(YamlNode n) {
            boolean move = true;
            PassthroughIrqs passthrough = PassthroughIrqs.HOST;
            if (n != null) {
                Map<String, YamlNode> m = w.mapping(n, "irqs");
                if (m.containsKey("move_to_host")) {
                    Boolean b = w.bool(m.get("move_to_host"), "irqs.move_to_host");
                    move = b == null || b;
                }
                if (m.containsKey("passthrough")) {
                    PassthroughIrqs p = w.choice(m.get("passthrough"), "irqs.passthrough", PassthroughIrqs.class);
                    passthrough = p == null ? passthrough : p;
                }
            }
            return new IrqPolicy(move, passthrough);
        }

        private WorkqueuePolicy workqueues(YamlNode n) {
            boolean move = true;
            List<String> also = List.of("writeback");
            if (n != null) {
                Map<String, YamlNode> m = w.mapping(n, "workqueues");
                if (m.containsKey("move_to_host")) {
                    Boolean b = w.bool(m.get("move_to_host"), "workqueues.move_to_host");
                    move = b == null || b;
                }
                if (m.containsKey("also")) {
                    List<String> names = w.words(m.get("also"), "workqueues.also");
                    if (names != null) {
                        for (String name : names) {
                            if (!isWorkqueueName(name) || !host.workqueueHasCpumask(name)) {
                                w.problem(m.get("also"), "workqueues.also", "'" + name
                                        + "' has no cpumask in /sys/devices/virtual/workqueue/ on this host; write one of "
                                        + host.workqueuesWithCpumask());
                            }
                        }
                        also = names;
                    }
                }
            }
            return new WorkqueuePolicy(move, also);
        }

        private String governor(YamlNode n, List<Integer> pins) {
            if (n == null) {
                return Profile.LEAVE;
            }
            String g = w.scalar(n, "governor", "a cpufreq governor name or 'leave'");
            if (g == null || Profile.LEAVE.equals(g)) {
                return Profile.LEAVE;
            }
            for (int cpu : pins) {
                List<String> offered = host.governorsOffered(cpu);
                if (offered.isEmpty()) {
                    w.problem(n, "governor", "CPU " + cpu + " has no cpufreq control (no scaling_available_governors);"
                            + " write governor: leave");
                    return g;
                }
                if (!offered.contains(g)) {
                    w.problem(n, "governor", "CPU " + cpu + " does not offer '" + g + "'; write one of "
                            + String.join(", ", offered) + ", or leave");
                    return g;
                }
            }
            return g;
        }

        private CStatePolicy cstates(YamlNode n) {
            CStateMethod method = CStateMethod.LEAVE;
            int max = 0;
            if (n != null) {
                Map<String, YamlNode> m = w.mapping(n, "cstates");
                if (m.containsKey("method")) {
                    CStateMethod c = w.choice(m.get("method"), "cstates.method", CStateMethod.class);
                    method = c == null ? method : c;
                } else if (!m.isEmpty()) {
                    w.problem(n, "cstates.method", "missing; write pm_qos, disable_states or leave");
                }
                if (m.containsKey("max_latency_us")) {
                    Integer i = w.integer(m.get("max_latency_us"), "cstates.max_latency_us", 0, 1_000_000);
                    max = i == null ? 0 : i;
                }
            }
            return new CStatePolicy(method, max);
        }

        private CgroupPolicy cgroups(YamlNode n) {
            CgroupMode mode = CgroupMode.AUTO;
            String root = null;
            List<String> keep = List.of("libvirtd", "virtqemud");
            if (n != null) {
                Map<String, YamlNode> m = w.mapping(n, "cgroups");
                if (m.containsKey("mode")) {
                    CgroupMode c = w.choice(m.get("mode"), "cgroups.mode", CgroupMode.class);
                    mode = c == null ? mode : c;
                }
                if (m.containsKey("root")) {
                    root = cgroupRoot(m.get("root"), mode);
                }
                if (m.containsKey("keep")) {
                    List<String> k = w.words(m.get("keep"), "cgroups.keep");
                    keep = k == null ? keep : k;
                }
            }
            return new CgroupPolicy(mode, root, keep);
        }

        /**
         * A cgroup directory of this host at or under /sys/fs/cgroup: any other directory (a typo such as
         * /sys/fs/cgroupx) holds no processes, and every cpuset would silently be skipped.
         */
        private String cgroupRoot(YamlNode n, CgroupMode mode) {
            String root = w.scalar(n, "cgroups.root", "a directory under /sys/fs/cgroup");
            if (root == null) {
                return null;
            }
            if (root.length() > 1 && root.endsWith("/")) {
                root = root.substring(0, root.length() - 1);
            }
            String fix = "; write e.g. /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpuset (v1)";
            if (!(root.equals("/sys/fs/cgroup") || root.startsWith("/sys/fs/cgroup/")) || root.contains("/..")
                    || root.contains("\0")) {
                w.problem(n, "cgroups.root", "'" + root + "' is not under /sys/fs/cgroup" + fix);
                return null;
            }
            if (mode != CgroupMode.NONE && !host.isCgroup(root)) {
                w.problem(n, "cgroups.root", "'" + root + "' is not a cgroup on this host (it has no cgroup.procs)" + fix
                        + ", a cgroup under them, or leave the key out");
                return null;
            }
            return root;
        }

        private MeasurePolicy measure(YamlNode n) {
            boolean after = false;
            Duration d = Duration.ofSeconds(30);
            OptionalInt max = OptionalInt.empty();
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
            }
            return new MeasurePolicy(after, d, max);
        }
    }
}
