package org.vfioorchestrator.doctor;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Help.Ansi;

/** Doctor's findings as text (grouped by severity, optionally coloured) or JSON. */
public final class DoctorReport {
    private DoctorReport() {
    }

    public static String text(String title, List<Finding> findings, boolean colour) {
        StringBuilder sb = new StringBuilder();
        sb.append(title).append('\n');
        if (findings.isEmpty()) {
            sb.append("\nno findings: nothing to fix.\n");
            return sb.toString();
        }
        for (Severity s : Severity.values()) {
            List<Finding> group = findings.stream().filter(f -> f.severity() == s).toList();
            if (group.isEmpty()) {
                continue;
            }
            sb.append('\n').append(paint(heading(s) + " (" + group.size() + ")", s, colour)).append('\n');
            for (Finding f : group) {
                sb.append("  ").append(paint(f.id(), s, colour)).append('\n');
                sb.append("    evidence: ").append(f.evidence()).append('\n');
                sb.append("    why:      ").append(f.why()).append('\n');
                sb.append("    fix:      ").append(f.fix()).append('\n');
            }
        }
        sb.append('\n').append(summary(findings)).append('\n');
        return sb.toString();
    }

    private static String heading(Severity s) {
        return switch (s) {
            case ERROR -> "Errors";
            case WARNING -> "Warnings";
            case INFO -> "Info";
        };
    }

    private static String paint(String text, Severity s, boolean colour) {
        String style = switch (s) {
            case ERROR -> "bold,red";
            case WARNING -> "bold,yellow";
            case INFO -> "cyan";
        };
        return Ansi.valueOf(colour).string("@|" + style + " " + text + "|@");
    }

    static String summary(List<Finding> findings) {
        long e = findings.stream().filter(f -> f.severity() == Severity.ERROR).count();
        long w = findings.stream().filter(f -> f.severity() == Severity.WARNING).count();
        long i = findings.stream().filter(f -> f.severity() == Severity.INFO).count();
        return e + " error(s), " + w + " warning(s), " + i + " info";
    }

    public static String json(String domain, String source, String hostRoot, List<Finding> findings) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("domain", domain);
        root.put("source", source);
        root.put("host_root", hostRoot);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Finding f : findings) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("severity", f.severity().label());
            m.put("id", f.id());
            m.put("evidence", f.evidence());
            m.put("why", f.why());
            m.put("fix", f.fix());
            list.add(m);
        }
        root.put("findings", list);
        root.put("exit_code", Doctor.exitCode(findings));
        try {
            return JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
