package org.vfioorchestrator.plan;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.plan.Change.PinThread;

/** Renders a plan for people (grouped by kind, unmovable items marked) and for machines (JSON-ready maps). */
public final class PlanText {
    private PlanText() {
    }

    public static void print(Plan plan, PrintWriter out) {
        out.println("Plan for " + String.join(", ", plan.vms()) + ": host keeps CPUs " + plan.hostCpus()
                + ", vCPUs get " + plan.vmCpus());
        for (ChangeKind kind : plan.kinds()) {
            List<Change> changes = plan.changes(kind);
            List<Unmovable> unmovable = plan.unmovable(kind);
            if (changes.isEmpty() && unmovable.isEmpty()) {
                continue;
            }
            out.println();
            out.println(kind.title() + " (" + changes.size() + " change" + (changes.size() == 1 ? "" : "s")
                    + (unmovable.isEmpty() ? "" : ", " + unmovable.size() + " unmovable") + ")");
            for (Change c : changes) {
                String what = c instanceof PinThread t ? "'" + t.threadName() + "' tid " + t.tid()
                        : c instanceof Change.SetUnitProperty u ? "systemd " + u.unit() + " " + u.property() + " (runtime)" : c.path();
                out.println("  " + what + ": " + show(c.before()) + " -> " + show(c.after()) + "   # " + c.reason());
            }
            printUnmovable(unmovable, out);
        }
        if (!plan.warnings().isEmpty()) {
            out.println();
            out.println("warnings");
            for (String w : plan.warnings()) {
                out.println("  ! " + w);
            }
        }
        out.println();
        out.println(summary(plan));
    }

    /** Long runs with the same reason (dozens of per-CPU kernel threads) print as one line. */
    private static void printUnmovable(List<Unmovable> unmovable, PrintWriter out) {
        Map<String, List<Unmovable>> byWhy = new LinkedHashMap<>();
        for (Unmovable u : unmovable) {
            byWhy.computeIfAbsent(u.why(), k -> new ArrayList<>()).add(u);
        }
        for (Map.Entry<String, List<Unmovable>> e : byWhy.entrySet()) {
            List<Unmovable> group = e.getValue();
            if (group.size() <= 3) {
                for (Unmovable u : group) {
                    out.println("  [unmovable] " + u.what() + " (" + u.path() + "): " + u.why());
                }
            } else {
                List<String> names = group.stream().limit(4).map(Unmovable::what).toList();
                out.println("  [unmovable] " + group.size() + " items (" + String.join(", ", names) + ", ...): " + e.getKey()
                        + " (--json lists them all)");
            }
        }
    }

    private static String show(String value) {
        return value.isEmpty() ? "''" : value;
    }

    public static String summary(Plan plan) {
        List<String> parts = new ArrayList<>();
        for (ChangeKind kind : plan.kinds()) {
            int n = plan.changes(kind).size();
            if (n > 0) {
                parts.add(n + " " + kind.title());
            }
        }
        return plan.changes().size() + " changes" + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")")
                + ", " + plan.unmovable().size() + " unmovable, " + plan.warnings().size() + " warning"
                + (plan.warnings().size() == 1 ? "" : "s") + ".";
    }

    public static Map<String, Object> toJson(Plan plan) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("vms", plan.vms());
        out.put("host_cpus", plan.hostCpus().toString());
        out.put("vm_cpus", plan.vmCpus().toString());
        List<Object> changes = new ArrayList<>();
        for (Change c : plan.changes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", c.kind().name());
            m.put("action", c.getClass().getSimpleName());
            m.put("path", c.path());
            m.put("before", c.before());
            m.put("after", c.after());
            m.put("reason", c.reason());
            if (c instanceof Change.SetUnitProperty u) {
                m.put("unit", u.unit());
                m.put("property", u.property());
            }
            if (c instanceof PinThread t) {
                m.put("tid", t.tid());
                m.put("thread", t.threadName());
            }
            if (c instanceof Change.MoveProcesses mp) {
                m.put("pids", mp.pids());
            }
            changes.add(m);
        }
        out.put("changes", changes);
        List<Object> unmovable = new ArrayList<>();
        for (Unmovable u : plan.unmovable()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", u.kind().name());
            m.put("path", u.path());
            m.put("what", u.what());
            m.put("why", u.why());
            unmovable.add(m);
        }
        out.put("unmovable", unmovable);
        out.put("warnings", plan.warnings());
        out.put("summary", summary(plan));
        return out;
    }
}
