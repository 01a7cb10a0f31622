package org.vfioorchestrator.measure;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.HostFs;

/**
 * Keeps reports under {@code /var/lib/vfio-orchestrator/reports/SUBJECT/STAMP.{json,txt,png}}
 * (SUBJECT is the VM's name or {@code probe-cpus-LIST}; STAMP is the start time in UTC,
 * {@code 20261123T133815.123Z}, so names sort by time). Written through HostFs: private
 * directories, each file replaced atomically, the JSON last, so a listed report is complete.
 */
public final class ReportStore {
    public static final String DIR = "/var/lib/vfio-orchestrator/reports";
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final HostFs host;

    public ReportStore(HostFs host) {
        this.host = host;
    }

    /** One kept report; {@code png} is empty when there was nothing to plot. */
    public record StoredReport(String subject, String stamp, String json, String text, Optional<String> png) {
        public Instant time() {
            return Instant.from(STAMP.parse(stamp));
        }
    }

    /** A subject must be one safe path component: libvirt VM names are, probe subjects are. */
    public static String checkSubject(String subject) {
        if (subject.isEmpty() || subject.length() > 200 || subject.contains("/") || subject.startsWith(".")
                || subject.chars().anyMatch(c -> c < 0x20)) {
            throw OrchestratorException.usage("'" + subject + "' is not a VM name (no '/', no leading '.', no control characters)");
        }
        return subject;
    }

    public static String stamp(Instant t) {
        return STAMP.format(t);
    }

    public StoredReport save(MeasurementReport report, String text, String json, Optional<byte[]> png) {
        String dir = DIR + "/" + checkSubject(report.subject());
        host.createPrivateDirectories(dir);
        String base = dir + "/" + stamp(report.startedAt());
        Optional<String> pngPath = png.map(bytes -> {
            host.replaceAtomically(base + ".png", bytes);
            return base + ".png";
        });
        host.replaceAtomically(base + ".txt", text.getBytes(StandardCharsets.UTF_8));
        host.replaceAtomically(base + ".json", json.getBytes(StandardCharsets.UTF_8));
        return new StoredReport(report.subject(), stamp(report.startedAt()), base + ".json", base + ".txt", pngPath);
    }

    /** The subject's kept reports, newest first; empty if there are none. */
    public List<StoredReport> list(String subject) {
        String dir = DIR + "/" + checkSubject(subject);
        List<StoredReport> out = new ArrayList<>();
        for (String name : host.list(dir)) {
            if (!name.endsWith(".json") || name.startsWith(".")) {
                continue;
            }
            String stamp = name.substring(0, name.length() - ".json".length());
            try {
                STAMP.parse(stamp);
            } catch (RuntimeException e) {
                continue; // not one of ours
            }
            String base = dir + "/" + stamp;
            out.add(new StoredReport(subject, stamp, base + ".json", base + ".txt",
                    host.exists(base + ".png") ? Optional.of(base + ".png") : Optional.empty()));
        }
        out.sort(Comparator.comparing(StoredReport::stamp).reversed());
        return out;
    }

    /** Reads a kept report back; a damaged one is a data error naming the file. */
    public MeasurementReport load(StoredReport stored) {
        String json = host.readRequired(stored.json());
        try {
            return ReportJson.read(json);
        } catch (RuntimeException e) {
            throw OrchestratorException.data(host.resolve(stored.json()) + ": not a report this version can read ("
                    + e.getMessage() + "); move it away");
        }
    }
}
