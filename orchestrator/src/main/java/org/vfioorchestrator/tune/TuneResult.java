package org.vfioorchestrator.tune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.profile.Profile;

/**
 * What {@code tune} measured for each candidate, the best by p99, and that candidate as a profile with the
 * evidence in its header. The figures are the guest's cyclictest latency when the guest agent answered,
 * else the vCPU threads' run-queue wait seen from the host; one run never mixes the two.
 */
public record TuneResult(Profile base, List<Trial> trials) {
    public TuneResult {
        trials = List.copyOf(trials);
    }

    /** One candidate: its profile (whose host_cpus are what the placement leaves the host) and report, or why it was refused. */
    public record Trial(Candidate candidate, Profile profile, MeasurementReport report, String failure) {
        static Trial measured(Candidate c, Profile p, MeasurementReport r) {
            return new Trial(c, p, r, null);
        }

        static Trial failed(Candidate c, String why) {
            return new Trial(c, null, null, why);
        }

        public boolean ok() {
            return report != null;
        }

        /** p99, p99.9 and max in µs from the guest; p99 and worst 1 s run-queue wait (µs/s) from the host. */
        public double p99() {
            return value(inGuest() ? "guest_latency_p99_us" : "runqueue_wait_p99_us_per_s");
        }

        public Optional<Double> p999() {
            return inGuest() ? Optional.of(value("guest_latency_p999_us")) : Optional.empty();
        }

        public double max() {
            return value(inGuest() ? "guest_latency_max_us" : "runqueue_wait_worst_us_per_s");
        }

        public boolean inGuest() {
            return report.guest() != null;
        }

        private double value(String key) {
            Map<String, MeasurementReport.Metric> m = report.metricsByKey();
            return m.containsKey(key) ? m.get(key).value() : Double.NaN;
        }
    }

    /** The measured candidate with the lowest p99 (the first of equals: the profile as it is comes first). */
    public Optional<Trial> best() {
        return trials.stream().filter(Trial::ok).min(Comparator.comparingDouble(Trial::p99));
    }

    /** Whether the figures came from inside the guest. */
    public boolean inGuest() {
        return trials.stream().filter(Trial::ok).findFirst().map(Trial::inGuest).orElse(false);
    }

    /** One line per candidate, the best marked: for the terminal and the profile's header. */
    public List<String> evidence() {
        List<String> out = new ArrayList<>();
        Trial best = best().orElse(null);
        out.add(inGuest() ? String.format(Locale.ROOT, "  %-52s %9s %9s %9s  %s", "candidate", "p99 µs", "p99.9 µs",
                "max µs", "host keeps")
                : String.format(Locale.ROOT, "  %-52s %9s %9s  %s", "candidate (vCPU run-queue wait, µs/s)", "p99",
                        "worst", "host keeps"));
        for (Trial t : trials) {
            String mark = t == best ? "* " : "  ";
            if (!t.ok()) {
                out.add(mark + String.format(Locale.ROOT, "%-52s refused: %s", t.candidate().name(), t.failure()));
            } else if (t.inGuest()) {
                out.add(mark + String.format(Locale.ROOT, "%-52s %9.0f %9.0f %9.0f  CPUs %s", t.candidate().name(), t.p99(),
                        t.p999().orElse(Double.NaN), t.max(), t.profile().hostCpus()));
            } else {
                out.add(mark + String.format(Locale.ROOT, "%-52s %9.0f %9.0f  CPUs %s", t.candidate().name(), t.p99(),
                        t.max(), t.profile().hostCpus()));
            }
        }
        return out;
    }

    /** The best candidate's profile, its header saying how it was chosen and what each candidate measured. */
    public Optional<String> profileText(String measuredWith, String when) {
        return best().map(b -> {
            StringBuilder sb = new StringBuilder();
            sb.append("# vfio-orchestrator profile for ").append(base.vm()).append(", chosen by 'tune' on ").append(when)
                    .append("\n# from ").append(base.source()).append(": ").append(b.candidate().name())
                    .append(" had the lowest p99\n# measured with ").append(measuredWith).append(":\n");
            for (String line : evidence()) {
                sb.append('#').append(line.stripTrailing()).append('\n');
            }
            // the VM named inside: the file is written under another name than VM.yaml
            Map<String, Object> named = new java.util.LinkedHashMap<>(b.candidate().overrides());
            named.put("vm", base.vm());
            sb.append('\n').append(Candidates.text(base.text(), new Candidate(b.candidate().name(), named)));
            return sb.toString();
        });
    }
}
