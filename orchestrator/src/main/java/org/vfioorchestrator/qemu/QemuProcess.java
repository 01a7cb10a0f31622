package org.vfioorchestrator.qemu;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.host.ProcStat;

/**
 * A running VM's QEMU process, found the way libvirt records it: the PID in
 * {@code /run/libvirt/qemu/VM.pid}, threads in {@code /proc/PID/task}.
 * Never asks libvirt (the hook must not call back into it).
 */
public record QemuProcess(String vm, int pid, List<QemuThread> threads) {

    public static String pidFile(String vm) {
        return "/run/libvirt/qemu/" + vm + ".pid";
    }

    /** The VM's QEMU, or empty when it is not running (no PID file, or a stale one). */
    public static Optional<QemuProcess> find(HostFs host, String vm) {
        Optional<String> pidText = host.read(pidFile(vm));
        if (pidText.isEmpty()) {
            return Optional.empty();
        }
        int pid;
        try {
            pid = Integer.parseInt(pidText.get().strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (!host.exists("/proc/" + pid + "/task")) {
            return Optional.empty();
        }
        List<QemuThread> threads = new ArrayList<>();
        for (String t : host.list("/proc/" + pid + "/task")) {
            int tid;
            try {
                tid = Integer.parseInt(t);
            } catch (NumberFormatException e) {
                continue;
            }
            String dir = "/proc/" + pid + "/task/" + tid;
            Optional<String> comm = host.read(dir + "/comm");
            Optional<String> stat = host.read(dir + "/stat");
            if (comm.isEmpty() || stat.isEmpty()) {
                continue; // the thread exited while we looked
            }
            threads.add(classify(tid, comm.get().strip(), startTime(stat.get())));
        }
        threads.sort(BY_ROLE_INDEX_TID);
        return Optional.of(new QemuProcess(vm, pid, List.copyOf(threads)));
    }

    static QemuThread classify(int tid, String name, long startTime) {
        // QEMU names them "CPU 3/KVM" (or /TCG, /HVF, /WHPX, by accelerator) and "IO iothread1"
        int slash = name.indexOf('/');
        int vcpu = slash < 0 ? -1 : KernelText.numberAfter("CPU ", name.substring(0, slash));
        if (vcpu >= 0 && List.of("KVM", "TCG", "HVF", "WHPX").contains(name.substring(slash + 1))) {
            return new QemuThread(tid, name, ThreadRole.VCPU, vcpu, startTime);
        }
        int iothread = KernelText.numberAfter("IO iothread", name);
        if (iothread >= 0) {
            return new QemuThread(tid, name, ThreadRole.IOTHREAD, iothread, startTime);
        }
        return new QemuThread(tid, name, ThreadRole.EMULATOR, -1, startTime);
    }

    /** Field 22 of /proc/.../stat, counted after the parenthesised comm (which may hold spaces). */
    public static long startTime(String stat) {
        return ProcStat.parse(stat).startTime();
    }

    /** Whether QEMU runs the guest without KVM: its vCPU threads are named {@code CPU n/TCG}. */
    public boolean tcg() {
        for (QemuThread t : threads) {
            if (t.role() == ThreadRole.VCPU && t.name().endsWith("/TCG")) {
                return true;
            }
        }
        return false;
    }

    public List<QemuThread> threads(ThreadRole role) {
        List<QemuThread> out = new ArrayList<>();
        for (QemuThread t : threads) {
            if (t.role() == role) {
                out.add(t);
            }
        }
        return List.copyOf(out);
    }

    /** vCPUs, then iothreads, then emulator threads; each by index, then thread id. Written out, not built from
     * Comparator.comparing: five lambda sites, which a fresh JVM links at some cost on every hook call. */
    private static final Comparator<QemuThread> BY_ROLE_INDEX_TID = new Comparator<>() {
        @Override
        public int compare(QemuThread a, QemuThread b) {
            int c = a.role().compareTo(b.role());
            if (c == 0) {
                c = Integer.compare(a.index(), b.index());
            }
            return c != 0 ? c : Integer.compare(a.tid(), b.tid());
        }
    };
}
