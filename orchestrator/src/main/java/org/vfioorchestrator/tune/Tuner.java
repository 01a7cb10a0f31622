package org.vfioorchestrator.tune;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.Applier;
import org.vfioorchestrator.apply.Journal;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.apply.Reverter;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileLoader;

/**
 * Tries each candidate placement on the running VM through the journal, measures it, and afterwards puts
 * the VM back as it was before: with the profile it ran with, or reverted if it was not applied. Each
 * placement starts from the host as it was without the VM ({@link Reverter}, then {@link Applier}): applying
 * a profile over another changes only what the new one names, so a C-state limit the previous candidate
 * set would stay. Should the process die in between, the journal still holds every before-image and the
 * VM's stop (or {@code revert VM}) restores the host.
 */
public final class Tuner {
    /** Measures the running VM for a while with the placement applied. */
    public interface Measurer {
        MeasurementReport measure(String vm, Duration duration);
    }

    /** Told before each candidate is applied (index from 0). */
    public interface Listener {
        void trying(int index, int total, Candidate candidate);
    }

    private final PlanService plans;
    private final Measurer measurer;
    private final Consumer<String> log;

    public Tuner(PlanService plans, Measurer measurer, Consumer<String> log) {
        this.plans = plans;
        this.measurer = measurer;
        this.log = log;
    }

    /**
     * Tries {@code candidates} on {@code base}'s VM for {@code each} apiece. A candidate the host refuses
     * (a profile problem, a write the kernel refuses) is recorded as failed and the next one tried; an
     * interruption (Ctrl-C) or a failed measurement ends the run. Either way the VM is put back first.
     */
    public TuneResult run(Profile base, List<Candidate> candidates, Duration each, Listener listener) {
        String vm = base.vm();
        Optional<Journal.AppliedVm> before = new JournalStore(plans.host()).load().map(j -> j.vms().get(vm));
        List<TuneResult.Trial> trials = new ArrayList<>();
        try {
            for (int i = 0; i < candidates.size(); i++) {
                if (Thread.interrupted()) {
                    throw OrchestratorException.data("tune: interrupted; the VM is put back as it was");
                }
                Candidate c = candidates.get(i);
                listener.trying(i, candidates.size(), c);
                Profile p;
                try {
                    p = profile(base, c);
                    applyAlone(p);
                } catch (OrchestratorException | HostIoException e) {
                    trials.add(TuneResult.Trial.failed(c, firstLine(e.getMessage())));
                    continue;
                }
                trials.add(TuneResult.Trial.measured(c, p, measurer.measure(vm, each)));
            }
        } catch (RuntimeException e) {
            // not after an Error: the JVM is in doubt, and the journal restores the host at the VM's stop.
            // An interrupted thread's file locks fail at once (NIO closes the channel): clear it for the put-back.
            boolean interrupted = Thread.interrupted();
            try {
                putBack(vm, before);
            } catch (RuntimeException failed) {
                e.addSuppressed(failed);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            throw e;
        }
        putBack(vm, before);
        return new TuneResult(base, trials);
    }

    /** The candidate's profile, checked against this host as the hook would load it. */
    Profile profile(Profile base, Candidate c) {
        String text = Candidates.text(base.text(), c);
        return new ProfileLoader(plans.facts()).parse(text.getBytes(StandardCharsets.UTF_8),
                base.source() + " (tune: " + c.name() + ")", base.vm()).requireVm(base.vm());
    }

    /** Back to the profile the VM ran with (as the journal kept it), or reverted if it ran without one. */
    private void putBack(String vm, Optional<Journal.AppliedVm> before) {
        if (before.isPresent()) {
            applyAlone(new ProfileLoader(plans.facts()).parse(before.get().profileText().getBytes(StandardCharsets.UTF_8),
                    before.get().profileSource(), vm));
            log.accept(vm + ": back to " + before.get().profileSource());
        } else {
            new Reverter(plans, log).revert(vm, false);
            log.accept(vm + ": reverted, as it was not isolated before tune");
        }
    }

    /** The VM's earlier changes undone, then {@code p} applied: the host as the hook would leave it with {@code p}. */
    private void applyAlone(Profile p) {
        new Reverter(plans, log).revert(p.vm(), false);
        new Applier(plans, log).apply(p, true);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
