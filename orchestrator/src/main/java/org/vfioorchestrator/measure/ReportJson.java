package org.vfioorchestrator.measure;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.measure.VmMeasurement.ForeignTask;
import org.vfioorchestrator.measure.VmMeasurement.InterruptSource;
import org.vfioorchestrator.measure.VmMeasurement.Vcpu;

/**
 * The report as JSON for machines (jackson-jr over plain maps, snake_case keys, CPU sets
 * in list form). {@code metrics} repeats the headline numbers that {@code --compare} uses;
 * {@code guest}, beside {@code vm}, holds what a tool measured inside the guest (its CPU
 * numbers are the guest's), in the form of a probe.
 */
public final class ReportJson {
    public static final int FORMAT_VERSION = 1;
    private static final JSON WRITER = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    private ReportJson() {
    }

    public static String write(MeasurementReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format_version", FORMAT_VERSION);
        m.put("subject", r.subject());
        m.put("kind", r.vm() != null ? "vm" : "probe");
        m.put("started_at", r.startedAt().toString());
        m.put("host_kernel", r.hostKernel());
        Map<String, Object> metrics = new LinkedHashMap<>();
        for (MeasurementReport.Metric x : r.metrics()) {
            metrics.put(x.key(), round(x.value()));
        }
        m.put("metrics", metrics);
        if (r.vm() != null) {
            m.put("vm", vm(r.vm()));
            if (r.guest() != null) {
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("os", r.guest().os());
                g.put("kernel", r.guest().kernel());
                g.putAll(probe(r.guest().latency()));
                m.put("guest", g);
            }
        } else {
            m.put("probe", probe(r.probe()));
        }
        try {
            return WRITER.asString(m) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> vm(VmMeasurement v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vm", v.vm());
        m.put("pid", v.pid());
        m.put("cpus", v.cpus().toString());
        m.put("cpus_from", v.cpusFrom());
        m.put("seconds", v.seconds());
        List<Object> vcpus = new ArrayList<>();
        for (Vcpu c : v.vcpus()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("index", c.index());
            x.put("tid", c.tid());
            x.put("name", c.name());
            x.put("allowed_cpus", c.allowed().toString());
            x.put("avg_wait_us_per_s", round(c.avgWaitUsPerSec()));
            x.put("worst_wait_us_per_s", round(c.worstWaitUsPerSec()));
            x.put("worst_window_s", c.worstWindow());
            x.put("wait_us_per_slice", round(c.waitUsPerSlice()));
            x.put("avg_involuntary_per_s", round(c.avgInvoluntaryPerSec()));
            x.put("max_involuntary_per_s", round(c.maxInvoluntaryPerSec()));
            x.put("run_percent", round(c.runPercent()));
            x.put("wait_us_per_s", c.waitUsPerSecond().stream().map(ReportJson::round).toList());
            vcpus.add(x);
        }
        m.put("vcpus", vcpus);
        List<Object> tasks = new ArrayList<>();
        for (ForeignTask t : v.foreignTasks()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("pid", t.pid());
            x.put("tid", t.tid());
            x.put("comm", t.comm());
            x.put("seen_on", t.seenOn().toString());
            x.put("windows", t.windows());
            x.put("run_ms", round(t.runMs()));
            tasks.add(x);
        }
        m.put("foreign_tasks", tasks);
        List<Object> irqs = new ArrayList<>();
        for (InterruptSource s : v.interrupts()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("key", s.key());
            x.put("label", s.label());
            x.put("cpu", s.cpu());
            x.put("total", s.total());
            x.put("avg_per_s", round(s.avgPerSec()));
            x.put("max_per_s", round(s.maxPerSec()));
            irqs.add(x);
        }
        m.put("interrupts", irqs);
        m.put("notes", v.notes());
        return m;
    }

    private static Map<String, Object> probe(ProbeResult p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tool", p.tool());
        m.put("meaning", p.meaning());
        m.put("cpus", p.cpus().toString());
        m.put("seconds", p.seconds());
        m.put("command", p.command());
        m.put("policy", p.policy().kind().toString());
        m.put("priority", p.policy().priority());
        m.put("policy_from", p.policy().reason());
        List<Object> cpus = new ArrayList<>();
        for (CpuLatency c : p.perCpu()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("cpu", c.cpu());
            x.put("samples", c.samples());
            x.put("min_us", round(c.minUs()));
            x.put("avg_us", round(c.avgUs()));
            x.put("p99_us", round(c.p99Us()));
            x.put("p999_us", round(c.p999Us()));
            x.put("max_us", round(c.maxUs()));
            x.put("overflows", c.overflows());
            Map<String, Object> hist = new LinkedHashMap<>();
            c.histogram().forEach((k, v) -> hist.put(bucketKey(k), v));
            x.put("histogram_us", hist);
            cpus.add(x);
        }
        m.put("per_cpu", cpus);
        return m;
    }

    private static String bucketKey(double us) {
        return us == Math.rint(us) ? Long.toString((long) us) : Double.toString(round(us));
    }

    static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    // ---- reading back -------------------------------------------------------------------

    /** Reads a report written by {@link #write}; a damaged file is an IllegalArgumentException naming the key. */
    public static MeasurementReport read(String json) {
        Map<String, Object> m;
        try {
            m = JSON.std.mapFrom(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + firstLine(e.getMessage()));
        }
        int version = num(m, "format_version").intValue();
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("format_version " + version + " is not " + FORMAT_VERSION);
        }
        Instant started = Instant.parse(str(m, "started_at"));
        String kernel = m.get("host_kernel") == null ? "" : m.get("host_kernel").toString();
        if (m.get("vm") instanceof Map<?, ?> v) {
            GuestResult guest = null;
            if (m.get("guest") instanceof Map<?, ?> g) {
                Map<String, Object> gm = cast(g);
                guest = new GuestResult(str(gm, "os"), str(gm, "kernel"), readProbe(gm));
            }
            return new MeasurementReport(str(m, "subject"), started, kernel, readVm(cast(v)), null, guest);
        }
        if (m.get("probe") instanceof Map<?, ?> p) {
            return new MeasurementReport(str(m, "subject"), started, kernel, null, readProbe(cast(p)), null);
        }
        throw new IllegalArgumentException("neither \"vm\" nor \"probe\" in the report");
    }

    private static VmMeasurement readVm(Map<String, Object> m) {
        List<Vcpu> vcpus = new ArrayList<>();
        for (Map<String, Object> x : list(m, "vcpus")) {
            List<Double> waits = new ArrayList<>();
            for (Object o : (List<?>) x.get("wait_us_per_s")) {
                waits.add(((Number) o).doubleValue());
            }
            vcpus.add(new Vcpu(num(x, "index").intValue(), num(x, "tid").intValue(), str(x, "name"),
                    CpuSet.parseList(str(x, "allowed_cpus")), dbl(x, "avg_wait_us_per_s"), dbl(x, "worst_wait_us_per_s"),
                    num(x, "worst_window_s").intValue(), dbl(x, "wait_us_per_slice"), dbl(x, "avg_involuntary_per_s"),
                    dbl(x, "max_involuntary_per_s"), dbl(x, "run_percent"), waits));
        }
        List<ForeignTask> tasks = new ArrayList<>();
        for (Map<String, Object> x : list(m, "foreign_tasks")) {
            tasks.add(new ForeignTask(num(x, "pid").intValue(), num(x, "tid").intValue(), str(x, "comm"),
                    CpuSet.parseList(str(x, "seen_on")), num(x, "windows").intValue(), dbl(x, "run_ms")));
        }
        List<InterruptSource> irqs = new ArrayList<>();
        for (Map<String, Object> x : list(m, "interrupts")) {
            irqs.add(new InterruptSource(str(x, "key"), str(x, "label"), num(x, "cpu").intValue(),
                    num(x, "total").longValue(), dbl(x, "avg_per_s"), dbl(x, "max_per_s")));
        }
        List<String> notes = new ArrayList<>();
        if (m.get("notes") instanceof List<?> l) {
            l.forEach(o -> notes.add(o.toString()));
        }
        return new VmMeasurement(str(m, "vm"), num(m, "pid").intValue(), CpuSet.parseList(str(m, "cpus")),
                str(m, "cpus_from"), num(m, "seconds").intValue(), vcpus, tasks, irqs, notes);
    }

    private static ProbeResult readProbe(Map<String, Object> m) {
        List<CpuLatency> cpus = new ArrayList<>();
        for (Map<String, Object> x : list(m, "per_cpu")) {
            TreeMap<Double, Long> hist = new TreeMap<>();
            if (x.get("histogram_us") instanceof Map<?, ?> h) {
                h.forEach((k, v) -> hist.put(Double.parseDouble(k.toString()), ((Number) v).longValue()));
            }
            cpus.add(new CpuLatency(num(x, "cpu").intValue(), num(x, "samples").longValue(), dbl(x, "min_us"),
                    dbl(x, "avg_us"), dbl(x, "p99_us"), dbl(x, "p999_us"), dbl(x, "max_us"),
                    num(x, "overflows").longValue(), hist));
        }
        return new ProbeResult(str(m, "tool"), CpuSet.parseList(str(m, "cpus")), num(m, "seconds").intValue(),
                str(m, "command"), readPolicy(m), cpus);
    }

    /** Reports from before {@code policy} was recorded: cyclictest ran SCHED_FIFO 95, the busy loops SCHED_OTHER. */
    private static ProbePolicy readPolicy(Map<String, Object> m) {
        if (m.get("policy") == null) {
            return "cyclictest".equals(m.get("tool")) ? ProbePolicy.fifo(ProbePolicy.DEFAULT_FIFO_PRIORITY, "")
                    : ProbePolicy.other("");
        }
        String reason = m.get("policy_from") == null ? "" : m.get("policy_from").toString();
        return switch (str(m, "policy")) {
            case "fifo" -> ProbePolicy.fifo(num(m, "priority").intValue(), reason);
            case "other" -> ProbePolicy.other(reason);
            default -> throw new IllegalArgumentException("\"policy\" is " + m.get("policy") + ", not fifo or other");
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static List<Map<String, Object>> list(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof List<?> l)) {
            throw new IllegalArgumentException("\"" + key + "\" is not a list");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof Map<?, ?> x)) {
                throw new IllegalArgumentException("an entry of \"" + key + "\" is not an object");
            }
            out.add(cast(x));
        }
        return out;
    }

    private static Number num(Map<String, Object> m, String key) {
        if (m.get(key) instanceof Number n) {
            return n;
        }
        throw new IllegalArgumentException("\"" + key + "\" is missing or not a number");
    }

    private static double dbl(Map<String, Object> m, String key) {
        return num(m, key).doubleValue();
    }

    private static String str(Map<String, Object> m, String key) {
        if (m.get(key) instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("\"" + key + "\" is missing or not a string");
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
