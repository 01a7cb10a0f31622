package org.vfioorchestrator.lab.guest;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The lab's runner inside the guest: runs each scenario of {@link Scenarios} on this real kernel and
 * writes {@code results.json} into the host's share after every one (a hang still leaves what ran).
 * The host's {@code lab.LabTest} turns each result into a test.
 *
 * <p>Usage: {@code GuestMain OUT_DIR VARIANT SEED [SCENARIO_FILE]}: the file lists words, one per line; a
 * scenario runs when its name contains one of them (without the file, or with none in it, all run).
 */
public final class GuestMain {
    private GuestMain() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        String variant = args[1];
        long seed = Long.parseLong(args[2]);
        List<String> only = args.length > 3 ? Files.readAllLines(Path.of(args[3])) : List.of();
        Files.createDirectories(out);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("variant", variant);
        doc.put("seed", seed);
        Map<String, Object> facts = Scenarios.facts();
        Tool.profile("labvm", Scenarios.PROFILE);
        facts.put("archive", Tool.makeArchive());
        doc.put("facts", facts);
        List<Map<String, Object>> results = new ArrayList<>();
        doc.put("scenarios", results);
        save(out, doc);
        Scenarios scenarios = new Scenarios(seed);
        for (Scenarios.Scenario s : scenarios.all()) {
            if (!only.isEmpty() && only.stream().noneMatch(s.name()::contains)) {
                continue;
            }
            log("scenario " + s.name() + " ...");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", s.name());
            long start = System.nanoTime();
            List<String> details = new ArrayList<>();
            try {
                String skip = s.run(details);
                r.put("status", skip == null ? "passed" : "skipped");
                if (skip != null) {
                    r.put("message", skip);
                }
            } catch (Throwable t) {
                r.put("status", "failed");
                r.put("message", t instanceof AssertionError ? t.getMessage() : stackTrace(t));
            } finally {
                String cleanup = scenarios.cleanUp();
                if (cleanup != null) {
                    details.add("clean-up: " + cleanup);
                }
            }
            r.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            r.put("details", details);
            results.add(r);
            save(out, doc);
            log("scenario " + s.name() + ": " + r.get("status") + " in " + r.get("seconds") + " s"
                    + (r.containsKey("message") ? ": " + firstLine(String.valueOf(r.get("message"))) : ""));
        }
        log("done");
    }

    static void log(String line) {
        System.out.println(java.time.Instant.now() + " " + line);
        System.out.flush();
    }

    private static void save(Path out, Map<String, Object> doc) throws IOException {
        Path tmp = out.resolve("results.json.tmp");
        Files.writeString(tmp, JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(doc));
        Files.move(tmp, out.resolve("results.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
