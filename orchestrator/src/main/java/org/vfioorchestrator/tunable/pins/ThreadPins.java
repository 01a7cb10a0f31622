package org.vfioorchestrator.tunable.pins;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.HostIoException;
import org.vfioorchestrator.plan.Change;
import org.vfioorchestrator.plan.ChangeKind;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.QemuThread;
import org.vfioorchestrator.tunable.Planning;
import org.vfioorchestrator.tunable.ReadScope;
import org.vfioorchestrator.tunable.Tunable;

/**
 * Each QEMU thread of a running VM pinned where its profile says ({@link Profile#cpusFor}): vCPU n on pin n,
 * iothreads, the emulator's threads. Its settings are the profile's core keys (vcpus, emulator_cpus,
 * iothread_cpus), which every unit sees; it reads each running VM's threads and where they may run now.
 */
public final class ThreadPins implements Tunable<Map<String, ThreadPins.RunningVm>> {
    public static final ThreadPins UNIT = new ThreadPins();
    public static final ChangeKind KIND = new ChangeKind("thread", "threads");

    /** A VM whose QEMU runs, with where each of its threads may run now. */
    public record RunningVm(QemuProcess qemu, Map<Integer, CpuSet> affinity) {
    }

    private ThreadPins() {
    }

    @Override
    public ChangeKind kind() {
        return KIND;
    }

    /** The VMs whose QEMU runs (not yet at prepare), by name. */
    @Override
    public Map<String, RunningVm> read(HostFs host, ReadScope scope) {
        Map<String, RunningVm> running = new TreeMap<>();
        for (String vm : scope.vms()) {
            Optional<QemuProcess> q = QemuProcess.find(host, vm);
            if (q.isPresent()) {
                running.put(vm, new RunningVm(q.get(), affinities(host, q.get())));
            }
        }
        return running;
    }

    private static Map<Integer, CpuSet> affinities(HostFs host, QemuProcess q) {
        Map<Integer, CpuSet> out = new TreeMap<>();
        for (QemuThread t : q.threads()) {
            try {
                out.put(t.tid(), host.threadAffinity(t.tid()));
            } catch (HostIoException e) {
                // the thread exited between listing and reading: nothing to pin
            }
        }
        return out;
    }

    @Override
    public void plan(Map<String, RunningVm> running, Planning plan) {
        for (Profile p : plan.profiles()) {
            RunningVm vm = running.get(p.vm());
            if (vm != null) {
                plan(p, vm, plan);
            }
        }
    }

    private static void plan(Profile p, RunningVm vm, Planning plan) {
        boolean tcg = vm.qemu().tcg();
        for (QemuThread t : vm.qemu().threads()) {
            CpuSet now = vm.affinity().get(t.tid());
            if (now == null) {
                continue;
            }
            CpuSet target = p.cpusFor(t.role(), t.index(), tcg);
            if (target == null) {
                plan.warn(p.vm() + ": QEMU has vCPU " + t.index() + " but the profile pins only "
                        + p.vcpuPins().size() + " vCPUs; it is left where it is");
                continue;
            }
            String why = switch (t.role()) {
                case VCPU -> "vCPU " + t.index() + " of " + p.vm();
                case IOTHREAD -> "iothread " + t.index() + " of " + p.vm();
                case EMULATOR -> "emulator thread of " + p.vm() + (tcg && !p.emulatorCpusGiven()
                        ? " (TCG: it runs the guest's timers, so it goes with vCPU 0)" : "");
            };
            plan.controls("/proc/" + vm.qemu().pid() + "/task/" + t.tid());
            if (!now.equals(target)) {
                plan.change(new Change.PinThread(KIND, p.vm(), vm.qemu().pid(), t.tid(), t.startTime(), t.name(), now, target, why));
            }
        }
    }
}
