package org.vfioorchestrator.status;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.apply.Journal;
import org.vfioorchestrator.apply.JournalEntry;
import org.vfioorchestrator.apply.JournalStore;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.install.Installer;
import org.vfioorchestrator.measure.MeasurementReport;
import org.vfioorchestrator.measure.ReportStore;
import org.vfioorchestrator.plan.ValueFormat;
import org.vfioorchestrator.profile.HostFacts;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileFile;
import org.vfioorchestrator.profile.ProfileLoader;
import org.vfioorchestrator.profile.ProfileStore;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;

/**
 * Reads {@link Status} from the host: the journal (never changing it: no lock, no
 * archiving), /proc for the VMs' threads, the report store. Never asks libvirt.
 */
public final class StatusService {
    static final int REPORTS_SHOWN = 3;
    private static final String PID_DIR = "/run/libvirt/qemu";

    private final HostFs host;

    public StatusService(HostFs host) {
        this.host = host;
    }

    /** @param only one VM, or null for every applied VM and every running VM that has a profile */
    public Status read(String only) {
        if (only != null) {
            ProfileStore.checkVmName(only);
        }
        JournalStore store = new JournalStore(host);
        String journalPath = store.journalPath();
        Status.JournalState state = Status.JournalState.NONE;
        String problem = null;
        Journal journal = null;
        try {
            journal = store.load().orElse(null);
            if (journal != null) {
                String boot = store.currentBootId();
                if (journal.bootId().equals(boot)) {
                    state = Status.JournalState.CURRENT;
                    if (!journal.refused().isEmpty()) {
                        problem = "it holds entries this tool never writes or cannot read, which revert does not restore and"
                                + " drops: " + String.join("; ", journal.refused());
                    }
                } else {
                    state = Status.JournalState.STALE;
                    problem = "it is from an earlier boot (" + journal.bootId() + ", now " + boot + "): the reboot reset"
                            + " every setting it records, so nothing of it is applied. Move it aside: mv " + journalPath
                            + " " + journalPath + ".old";
                }
            }
        } catch (OrchestratorException | HostIoException e) {
            state = Status.JournalState.UNREADABLE;
            long uid = new com.sun.security.auth.module.UnixSystem().getUid();
            problem = (uid != 0 && host.isLive() ? "the journal is root's: run 'sudo vfio-orchestrator status'. " : "")
                    + e.getMessage();
        }
        List<String> stale;
        try {
            stale = host.list(JournalStore.STATE_DIR).stream().filter(n -> n.startsWith("journal.stale-"))
                    .map(n -> host.resolve(JournalStore.STATE_DIR + "/" + n).toString()).toList();
        } catch (HostIoException e) {
            stale = List.of(); // not ours to read (not root): the journal line says so
        }

        Journal current = state == Status.JournalState.CURRENT ? journal : null;
        HostFacts facts = HostFacts.read(host);
        List<Status.Vm> vms = new ArrayList<>();
        for (String vm : vmsToShow(only, current)) {
            vms.add(vm(vm, current, facts));
        }
        Map<JournalEntry.UnitPropertySet, String> units = current == null ? Map.of() : unitProperties(current);
        List<Status.Drift> drift = current == null ? List.of() : drift(current, only, units);
        Optional<String> hook = Installer.installedHook(host.root());
        List<Status.UnitProperty> shown = new ArrayList<>();
        units.forEach((e, now) -> shown.add(new Status.UnitProperty(e.unit(), e.property(), now)));
        return new Status(journalPath, state, problem, journal == null ? 0 : journal.entries().size(), stale, hook,
                vms, drift, current == null ? List.of() : partitions(current), shown);
    }

    /**
     * systemd's value now of each unit property the journal set, one systemctl call per property (each starts a
     * process); "(unreadable: why)" where systemd does not answer.
     */
    private Map<JournalEntry.UnitPropertySet, String> unitProperties(Journal journal) {
        Map<String, List<JournalEntry.UnitPropertySet>> byProperty = new LinkedHashMap<>();
        for (JournalEntry e : journal.entries()) {
            if (e instanceof JournalEntry.UnitPropertySet u) {
                byProperty.computeIfAbsent(u.property(), k -> new ArrayList<>()).add(u);
            }
        }
        Map<JournalEntry.UnitPropertySet, String> out = new LinkedHashMap<>();
        byProperty.forEach((property, entries) -> {
            Map<String, String> now;
            try {
                now = host.systemd().map(sd -> sd.properties(entries.stream().map(JournalEntry.UnitPropertySet::unit).toList(),
                        property)).orElse(Map.of());
            } catch (HostIoException e) {
                now = Map.of();
                entries.forEach(u -> out.put(u, "(unreadable: " + e.getMessage() + ")"));
                return;
            }
            for (JournalEntry.UnitPropertySet u : entries) {
                out.put(u, now.getOrDefault(u.unit(), "(no systemd)"));
            }
        });
        return out;
    }

    /** The partitions the journal made, as the kernel reports them: it says "invalid" when it cannot keep one. */
    private List<Status.Partition> partitions(Journal journal) {
        List<Status.Partition> out = new ArrayList<>();
        for (JournalEntry e : journal.entries()) {
            if (e instanceof JournalEntry.FileWritten w && w.format() == ValueFormat.PARTITION) {
                String now = host.read(w.path()).map(String::strip).orElse("(gone)");
                out.add(new Status.Partition(w.path().substring(0, w.path().lastIndexOf('/')), now));
            }
        }
        return out;
    }

    private List<String> vmsToShow(String only, Journal journal) {
        if (only != null) {
            return List.of(only);
        }
        TreeSet<String> names = new TreeSet<>();
        if (journal != null) {
            names.addAll(journal.vms().keySet());
        }
        for (String file : host.list(PID_DIR)) {
            if (file.endsWith(".pid")) {
                String vm = file.substring(0, file.length() - ".pid".length());
                try {
                    if (ProfileStore.find(host, vm).isPresent() && QemuProcess.find(host, vm).isPresent()) {
                        names.add(vm);
                    }
                } catch (OrchestratorException e) {
                    names.add(vm); // a profile we refuse: worth showing why
                }
            }
        }
        return List.copyOf(names);
    }

    private Status.Vm vm(String vm, Journal journal, HostFacts facts) {
        List<String> notes = new ArrayList<>();
        Journal.AppliedVm applied = journal == null ? null : journal.vms().get(vm);
        Optional<ProfileFile> installed;
        try {
            installed = ProfileStore.find(host, vm);
        } catch (OrchestratorException e) {
            installed = Optional.empty();
            notes.add(e.getMessage());
        }
        Profile profile = null;
        String source = null;
        boolean changed = false;
        try {
            if (applied != null) {
                source = applied.profileSource();
                profile = new ProfileLoader(facts).parse(applied.profileText().getBytes(StandardCharsets.UTF_8),
                        applied.profileSource() + " (as applied)", vm);
                if (installed.isPresent()) {
                    Profile now = new ProfileLoader(facts).load(installed.get());
                    changed = !now.text().equals(applied.profileText());
                } else {
                    notes.add("its profile " + host.resolve(ProfileStore.pathOf(vm)) + " is gone; the journal keeps the"
                            + " applied text, so stopping the VM still restores the host");
                }
            } else if (installed.isPresent()) {
                source = installed.get().path().toString();
                profile = new ProfileLoader(facts).load(installed.get());
            }
        } catch (OrchestratorException e) {
            notes.add("profile: " + String.join("; ", e.problems()));
        }
        if (changed) {
            notes.add("the profile file changed since it was applied; the VM keeps the applied one until it starts again"
                    + " (or libvirtd restarts: its reconnect hook applies the file as it is then)");
        }
        Optional<QemuProcess> qemu = QemuProcess.find(host, vm);
        Profile wants = profile;
        Optional<Status.Running> running = qemu.map(q -> running(q, wants));
        if (applied == null && profile != null && running.isPresent()) {
            notes.add("QEMU runs and the VM has a profile, but it is not isolated: is the hook installed"
                    + " (vfio-orchestrator install) and was libvirtd restarted or reloaded since? 'apply " + vm + "' isolates it now");
        }
        if (applied != null && running.isEmpty()) {
            notes.add("isolated but QEMU is not running (no live process behind " + host.resolve(QemuProcess.pidFile(vm))
                    + "): libvirt is starting it, or the stop hook did not run; 'vfio-orchestrator revert " + vm
                    + "' puts the host back");
        }
        if (applied == null && profile == null && running.isEmpty() && notes.isEmpty()) {
            notes.add("not applied, not running, and no profile at " + host.resolve(ProfileStore.pathOf(vm)));
        }
        int images = journal == null ? 0 : (int) journal.entries().stream().filter(e -> vm.equals(e.vm())).count();
        return new Status.Vm(vm, applied != null, applied == null ? null : applied.appliedAt(), source, changed, images,
                profile == null ? null : profile.hostCpus(), profile == null ? null : profile.vmCpus(), running,
                reports(vm, notes), notes);
    }

    private Status.Running running(QemuProcess q, Profile profile) {
        List<Status.Thread> threads = new ArrayList<>();
        for (QemuThread t : q.threads()) {
            CpuSet now;
            try {
                now = host.threadAffinity(t.tid());
            } catch (HostIoException e) {
                continue; // exited while we looked
            }
            threads.add(new Status.Thread(t.tid(), t.name(), t.role().name().toLowerCase(Locale.ROOT), t.index(), now,
                    profile == null ? null : profile.cpusFor(t.role(), t.index(), q.tcg())));
        }
        return new Status.Running(q.pid(), threads);
    }

    private List<Status.Report> reports(String vm, List<String> notes) {
        ReportStore store = new ReportStore(host);
        List<Status.Report> out = new ArrayList<>();
        List<ReportStore.StoredReport> list;
        try {
            list = store.list(vm);
        } catch (RuntimeException e) {
            notes.add("reports: " + e.getMessage());
            return out;
        }
        for (ReportStore.StoredReport r : list.stream().limit(REPORTS_SHOWN).toList()) {
            String headline;
            try {
                MeasurementReport m = store.load(r);
                headline = String.join(", ", m.metrics().stream().limit(2)
                        .map(x -> x.label() + " " + format(x.value()) + " " + x.unit()).toList());
            } catch (RuntimeException e) {
                headline = "unreadable: " + e.getMessage();
            }
            out.add(new Status.Report(r.stamp(), host.resolve(r.text()).toString(), headline));
        }
        return out;
    }

    private static String format(double v) {
        return v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    /** Entries whose value is no longer what we wrote. Threads that exited are not drift: they are gone with their VM. */
    private List<Status.Drift> drift(Journal journal, String only, Map<JournalEntry.UnitPropertySet, String> units) {
        List<Status.Drift> out = new ArrayList<>();
        for (JournalEntry e : journal.entries()) {
            if (only != null && e instanceof JournalEntry.ThreadPinned && !only.equals(e.vm())) {
                continue;
            }
            if (e instanceof JournalEntry.UnitPropertySet u) {
                String now = units.get(u);
                if (!u.wroteValue(now)) {
                    out.add(new Status.Drift("systemd " + u.unit() + " " + u.property(), u.vm(), u.expected(), now, u.original()));
                }
                continue;
            }
            try {
                checkEntry(e).ifPresent(out::add);
            } catch (HostIoException | CpuSetFormatException ex) {
                out.add(new Status.Drift(e.path(), e.vm(), e.expected(), "(unreadable: " + ex.getMessage() + ")", e.original()));
            }
        }
        return out;
    }

    private Optional<Status.Drift> checkEntry(JournalEntry e) {
        if (e instanceof JournalEntry.FileWritten w) {
            Optional<String> now = host.read(w.path());
            if (now.isEmpty()) {
                return Optional.of(new Status.Drift(w.path(), w.vm(), w.expected(), "(gone)", w.original()));
            }
            return w.wroteValue(now.get()) ? Optional.empty()
                    : Optional.of(new Status.Drift(w.path(), w.vm(), w.expected(), now.get().strip(), w.original()));
        }
        if (e instanceof JournalEntry.CgroupMade) {
            return host.isDirectory(e.path()) ? Optional.empty()
                    : Optional.of(new Status.Drift(e.path(), e.vm(), "(created)", "(gone)", e.original()));
        }
        if (e instanceof JournalEntry.ControllerEnabled) {
            boolean on = KernelText.words(host.read(e.path()).orElse("")).contains("cpuset");
            return on ? Optional.empty()
                    : Optional.of(new Status.Drift(e.path(), e.vm(), "+cpuset", "(cpuset disabled)", e.original()));
        }
        if (e instanceof JournalEntry.ThreadPinned p) {
            Optional<String> stat = host.read("/proc/" + p.pid() + "/task/" + p.tid() + "/stat");
            if (stat.isEmpty() || QemuProcess.startTime(stat.get()) != p.startTime()) {
                return Optional.empty();
            }
            CpuSet now = host.threadAffinity(p.tid());
            return p.wroteAffinity(now) ? Optional.empty()
                    : Optional.of(new Status.Drift(p.path() + " (" + p.label() + ")", p.vm(), p.expected(), now.toString(),
                            p.original()));
        }
        return Optional.empty(); // moved processes: whoever is in the host cpuset now is fine
    }
}
