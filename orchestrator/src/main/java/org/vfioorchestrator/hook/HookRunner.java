package org.vfioorchestrator.hook;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.Applier;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.apply.RevertReport;
import org.vfioorchestrator.apply.Reverter;
import org.vfioorchestrator.domain.DomainFacts;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.DomainCheck;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileFile;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * libvirt's qemu hook protocol: argv {@code VM OPERATION SUB-OPERATION EXTRA},
 * the domain XML on stdin. Only {@code prepare} and {@code started} may fail
 * (libvirt then aborts the start and shows our stderr); every other operation
 * exits 0 whatever happens, because a non-zero {@code reconnect} kills the VM
 * and a stop cannot be aborted. Never writes to stdout (libvirt reads it as XML
 * for migrate/restore) and never calls back into libvirt (deadlock).
 */
public final class HookRunner {
    private static final int MAX_XML = DomainXml.MAX_BYTES;

    private final HostFs host;
    private final PrintWriter err;
    private final MeasurementLauncher measurements;
    private final OutputStream syslog;
    /** Bytes libvirt sent on stdin when that was more than {@link #MAX_XML}; 0 otherwise. */
    private long xmlTooLarge;

    /** @param syslog where log lines also go to syslog (the shim's pipe to logger); null: only the log file */
    public HookRunner(HostFs host, PrintWriter err, MeasurementLauncher measurements, OutputStream syslog) {
        this.host = host;
        this.err = err;
        this.measurements = measurements;
        this.syslog = syslog;
    }

    public int run(List<String> argv, InputStream stdin) {
        String xml = drain(stdin);
        if (argv.size() < 3 || argv.size() > 4) {
            err.println("vfio-orchestrator hook: expected 'VM OPERATION SUB-OPERATION [EXTRA]' (libvirt's hook arguments), got "
                    + argv.size() + " arguments");
            return ExitCode.USAGE.code();
        }
        String vm = argv.get(0);
        String operation = argv.get(1) + " " + argv.get(2);
        boolean mayFail = operation.equals("prepare begin") || operation.equals("started begin");
        try {
            ProfileStore.checkVmName(vm);
        } catch (OrchestratorException e) {
            return mayFail ? fail(vm, e.getMessage()) : 0;
        }
        boolean stopping = operation.equals("release end") || operation.equals("stopped end");
        Optional<ProfileFile> profileFile;
        try {
            profileFile = ProfileStore.find(host, vm);
        } catch (OrchestratorException e) {
            if (mayFail) {
                return fail(vm, e.getMessage());
            }
            if (stopping) {
                revertFromJournal(vm, operation, "its profile is refused now (" + e.getMessage() + ")");
            }
            return 0;
        }
        if (profileFile.isEmpty()) {
            if (stopping) {
                revertFromJournal(vm, operation, "its profile is gone");
            }
            return 0; // not our VM
        }
        HookLog log = new HookLog(host, vm, operation, syslog);
        try {
            return switch (operation) {
                case "prepare begin" -> prepare(vm, profileFile.get(), xml, log);
                case "started begin" -> started(vm, profileFile.get(), xml, log);
                case "release end", "stopped end" -> {
                    stop(vm, log);
                    yield 0;
                }
                case "reconnect begin" -> {
                    reconnect(vm, log);
                    yield 0;
                }
                default -> 0; // migrate, restore, attach, start, anything new: not ours
            };
        } finally {
            log.finish();
        }
    }

    private int prepare(String vm, ProfileFile profileFile, String xml, HookLog log) {
        try {
            PlanService plans = new PlanService(host);
            Profile profile = load(plans, vm, profileFile, xml);
            new Applier(plans, log).apply(profile, false);
            return 0;
        } catch (OrchestratorException | HostIoException e) {
            log.accept("refused to start: " + e.getMessage());
            return fail(vm, e.getMessage());
        }
    }

    private int started(String vm, ProfileFile profileFile, String xml, HookLog log) {
        PlanService plans;
        Profile profile;
        host.expectAffinityChanges(); // QEMU's threads get pinned at the end of this call
        try {
            plans = new PlanService(host);
            profile = load(plans, vm, profileFile, xml);
            new Applier(plans, log).apply(profile, true);
        } catch (OrchestratorException | HostIoException e) {
            log.accept("pinning failed, reverting: " + e.getMessage());
            return fail(vm, e.getMessage() + " " + afterRevert(vm, stop(vm, log)));
        }
        if (profile.measure().afterStart()) {
            try {
                measurements.launch(vm, profile.measure());
                log.accept("started a background measurement for " + profile.measure().duration().toSeconds() + " s"
                        + (profile.measure().inGuest() ? ", inside the guest too once its agent answers" : ""));
            } catch (RuntimeException e) {
                log.accept("could not start the measurement: " + e.getMessage());
            }
        }
        return 0;
    }

    /**
     * The VM's profile, checked to be for the VM libvirt named and to fit the domain XML libvirt sent: the
     * host is isolated, journaled and later restored under libvirt's name, never under another.
     */
    private Profile load(PlanService plans, String vm, ProfileFile profileFile, String xml) {
        Profile profile = plans.load(profileFile).requireVm(vm);
        if (xmlTooLarge > 0) {
            throw DomainXml.tooLarge("the domain XML from libvirt", xmlTooLarge);
        }
        if (!xml.isBlank()) {
            DomainCheck.check(profile, DomainFacts.parse(xml, "the domain XML from libvirt"));
        }
        return profile;
    }

    /** Reverts what the journal holds for {@code vm}; empty when the revert itself failed (logged). */
    private Optional<RevertReport> stop(String vm, HookLog log) {
        try {
            return Optional.of(new Reverter(new PlanService(host), log).revert(vm, false));
        } catch (RuntimeException e) {
            log.accept("revert failed: " + e.getMessage() + "; run 'vfio-orchestrator revert " + vm + "' by hand");
            return Optional.empty();
        }
    }

    /** What a refused {@code started} did to the host, for libvirt's error: only what is true. */
    private static String afterRevert(String vm, Optional<RevertReport> report) {
        if (report.isEmpty()) {
            return "Reverting the host side failed (" + HookLog.FILE + " says why); run: vfio-orchestrator revert " + vm;
        }
        RevertReport r = report.get();
        if (!r.wasApplied()) {
            return "Nothing was changed on the host."; // prepare refused it too, or applied nothing
        }
        int left = r.drift().size() + r.failed().size();
        if (left > 0) {
            return "The host side was reverted except " + left + (left == 1 ? " setting" : " settings") + " (" + HookLog.FILE
                    + " names " + (left == 1 ? "it" : "them") + "); finish with: vfio-orchestrator revert " + vm;
        }
        return "The host side was reverted.";
    }

    /**
     * A stop needs no profile: the journal holds the before-images and the profile text each VM was
     * applied with. So a VM whose profile was removed, or made unsafe, while it ran is still reverted.
     */
    private void revertFromJournal(String vm, String operation, String why) {
        if (!host.exists(JournalStore.JOURNAL)) {
            return; // nothing applied on this host: not our VM
        }
        HookLog log = new HookLog(host, vm, operation, syslog);
        try {
            log.accept(why + "; reverting from the journal");
            stop(vm, log);
        } finally {
            log.finish();
        }
    }

    /**
     * libvirtd restarted: the VM runs on. Put its threads back where they were pinned if they drifted,
     * with the profile it was started with (kept in the journal), not one edited since.
     */
    private void reconnect(String vm, HookLog log) {
        host.expectAffinityChanges(); // a drifted thread gets pinned again
        try {
            if (!new Applier(new PlanService(host), log).reassert(vm)) {
                log.accept("not applied (no journal entry): nothing to re-check");
            }
        } catch (RuntimeException e) {
            log.accept("reconnect check failed (the VM keeps running): " + e.getMessage());
        }
    }

    private int fail(String vm, String message) {
        err.println("vfio-orchestrator: VM " + ProfileStore.shown(vm) + " not started: " + message.replace('\n', ' '));
        err.flush();
        return ExitCode.HOST_OR_DATA.code();
    }

    /**
     * Reads the domain XML libvirt writes to stdin (bounded), so libvirt never blocks on a full pipe.
     * More than {@link #MAX_XML} bytes is remembered and refused by {@code prepare}, rather than parsed
     * cut short (which would only say "malformed XML").
     */
    private String drain(InputStream in) {
        if (in == null) {
            return "";
        }
        try {
            byte[] bytes = in.readNBytes(MAX_XML + 1);
            if (bytes.length > MAX_XML) {
                xmlTooLarge = bytes.length + in.transferTo(java.io.OutputStream.nullOutputStream());
                return "";
            }
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
