package org.vfioorchestrator.status;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link Status} as text for people and as JSON-ready maps for scripts. */
public final class StatusText {
    private StatusText() {
    }

    public static void print(Status s, Instant now, PrintWriter out) {
        switch (s.journal()) {
            case NONE -> out.println("journal: none (" + s.journalPath() + "): nothing is applied");
            case CURRENT -> out.println("journal: " + s.journalPath() + ", this boot, " + s.beforeImages() + " before-images"
                    + (s.journalProblem() == null ? "" : "; REFUSED ENTRIES: " + s.journalProblem()));
            case STALE -> out.println("journal: STALE " + s.journalPath() + ": " + s.journalProblem());
            case UNREADABLE -> out.println("journal: UNREADABLE: " + s.journalProblem());
        }
        s.staleJournals().forEach(f -> out.println("journal of an earlier boot, kept for reading: " + f));
        out.println("hook: " + s.hook().map(h -> "installed at " + h).orElse("not installed by 'vfio-orchestrator install'"));
        if (s.vms().isEmpty()) {
            out.println("no VM is isolated or running with a profile");
        }
        for (Status.Vm vm : s.vms()) {
            out.println();
            StringBuilder head = new StringBuilder(vm.name()).append(": ");
            if (vm.applied()) {
                head.append("isolated since ").append(vm.appliedAt()).append(ago(vm.appliedAt(), now));
            } else {
                head.append("not isolated");
            }
            if (vm.profileSource() != null) {
                head.append(", profile ").append(vm.profileSource());
            }
            if (vm.applied()) {
                head.append(", ").append(vm.beforeImages()).append(" before-images");
            }
            out.println(head);
            if (vm.hostCpus() != null) {
                out.println("  host keeps CPUs " + vm.hostCpus() + "; vCPUs on " + vm.vcpuCpus());
            }
            vm.running().ifPresentOrElse(r -> threads(r, out), () -> out.println("  QEMU: not running"));
            for (Status.Report r : vm.reports()) {
                out.println("  report " + r.stamp() + ": " + r.headline() + " (" + r.textFile() + ")");
            }
            vm.notes().forEach(n -> out.println("  note: " + n));
        }
        if (!s.units().isEmpty()) {
            out.println();
            // grouped by value: usually one line, AllowedCPUs of the host's slices
            Map<String, List<String>> byValue = new LinkedHashMap<>();
            for (Status.UnitProperty u : s.units()) {
                byValue.computeIfAbsent(u.property() + "=" + u.now(), k -> new ArrayList<>()).add(u.unit());
            }
            byValue.forEach((value, units) -> out.println("systemd: " + value + " on " + String.join(", ", units)
                    + " (runtime, until the last VM stops)"));
        }
        for (Status.Partition p : s.partitions()) {
            out.println();
            out.println("partition: " + p.cgroup() + " " + p.state() + (p.valid() ? ""
                    : ": the kernel balances its CPUs with the host's again; 'revert' then 'apply' makes it anew"));
        }
        if (!s.drift().isEmpty()) {
            out.println();
            out.println("drift: someone changed " + s.drift().size() + " value(s) after us ('revert' leaves them alone"
                    + " unless --force; 'apply VM' writes ours again):");
            for (Status.Drift d : s.drift()) {
                out.println("  " + d.path() + ": now " + shown(d.now()) + ", we wrote " + shown(d.expected()) + ", before us "
                        + shown(d.original()));
            }
        }
    }

    /** An empty value (a cgroup or unit that inherits every CPU) as '' rather than nothing. */
    private static String shown(String value) {
        return value.isBlank() ? "''" : value;
    }

    private static void threads(Status.Running r, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"thread", "tid", "runs on", "profile wants", ""});
        for (Status.Thread t : r.threads()) {
            rows.add(new String[] {t.name(), Integer.toString(t.tid()), t.now().toString(),
                    t.wanted() == null ? "-" : t.wanted().toString(), t.wanted() == null ? "" : t.ok() ? "ok" : "DIFFERENT"});
        }
        int[] w = new int[5];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        out.println("  QEMU pid " + r.pid() + ", " + r.threads().size() + " threads:");
        for (String[] row : rows) {
            out.println(("    " + pad(row[0], w[0]) + "  " + pad(row[1], w[1]) + "  " + pad(row[2], w[2]) + "  "
                    + pad(row[3], w[3]) + "  " + row[4]).stripTrailing());
        }
    }

    private static String pad(String s, int w) {
        return s + " ".repeat(Math.max(0, w - s.length()));
    }

    private static String ago(String iso, Instant now) {
        try {
            Duration d = Duration.between(Instant.parse(iso), now);
            if (d.isNegative()) {
                return "";
            }
            long m = d.toMinutes();
            return m < 1 ? " (" + d.toSeconds() + " s ago)" : m < 120 ? " (" + m + " min ago)" : " (" + d.toHours() + " h ago)";
        } catch (RuntimeException e) {
            return "";
        }
    }

    public static Map<String, Object> toJson(Status s) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("path", s.journalPath());
        j.put("state", s.journal().name().toLowerCase(java.util.Locale.ROOT));
        j.put("problem", s.journalProblem());
        j.put("beforeImages", s.beforeImages());
        j.put("earlierBoots", s.staleJournals());
        m.put("journal", j);
        m.put("hook", s.hook().orElse(null));
        List<Object> vms = new ArrayList<>();
        for (Status.Vm v : s.vms()) {
            Map<String, Object> vm = new LinkedHashMap<>();
            vm.put("name", v.name());
            vm.put("applied", v.applied());
            vm.put("appliedAt", v.appliedAt());
            vm.put("profile", v.profileSource());
            vm.put("profileChanged", v.profileChanged());
            vm.put("beforeImages", v.beforeImages());
            vm.put("hostCpus", v.hostCpus() == null ? null : v.hostCpus().toString());
            vm.put("vcpuCpus", v.vcpuCpus() == null ? null : v.vcpuCpus().toString());
            vm.put("qemu", v.running().map(r -> {
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("pid", r.pid());
                List<Object> ts = new ArrayList<>();
                for (Status.Thread t : r.threads()) {
                    Map<String, Object> tm = new LinkedHashMap<>();
                    tm.put("tid", t.tid());
                    tm.put("name", t.name());
                    tm.put("role", t.role());
                    tm.put("index", t.index());
                    tm.put("cpus", t.now().toString());
                    tm.put("wanted", t.wanted() == null ? null : t.wanted().toString());
                    tm.put("ok", t.ok());
                    ts.add(tm);
                }
                q.put("threads", ts);
                return (Object) q;
            }).orElse(null));
            List<Object> reports = new ArrayList<>();
            for (Status.Report r : v.reports()) {
                reports.add(Map.of("stamp", r.stamp(), "text", r.textFile(), "headline", r.headline()));
            }
            vm.put("reports", reports);
            vm.put("notes", v.notes());
            vms.add(vm);
        }
        m.put("vms", vms);
        List<Object> drift = new ArrayList<>();
        for (Status.Drift d : s.drift()) {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("path", d.path());
            dm.put("vm", d.vm());
            dm.put("now", d.now());
            dm.put("expected", d.expected());
            dm.put("original", d.original());
            drift.add(dm);
        }
        m.put("drift", drift);
        List<Object> partitions = new ArrayList<>();
        for (Status.Partition p : s.partitions()) {
            partitions.add(Map.of("cgroup", p.cgroup(), "state", p.state(), "valid", p.valid()));
        }
        m.put("partitions", partitions);
        List<Object> units = new ArrayList<>();
        for (Status.UnitProperty u : s.units()) {
            units.add(Map.of("unit", u.unit(), "property", u.property(), "now", u.now()));
        }
        m.put("systemd", units);
        m.put("needsAttention", s.needsAttention());
        return m;
    }
}
