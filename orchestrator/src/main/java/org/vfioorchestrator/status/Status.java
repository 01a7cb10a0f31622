package org.vfioorchestrator.status;

import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * What is applied now and whether it still holds: the journal, each VM's isolation,
 * where its QEMU threads run against where its profile wants them, and its latest
 * measurements. Read-only; never used by the hook.
 *
 * @param journalPath   the journal file (under the host root)
 * @param journal       its state
 * @param journalProblem why it could not be read (UNREADABLE), why it is not applied (STALE), or which of its
 *                      entries revert will not restore (CURRENT)
 * @param beforeImages  before-images it holds (entries), all VMs together
 * @param staleJournals journals of earlier boots moved aside (kept for reading, never applied)
 * @param hook          where install put the hook, if it did
 * @param vms           the VMs shown: the one asked for, or every applied or profiled running VM
 * @param drift         values someone changed after we wrote them
 * @param partitions    the cpuset partitions the journal made (the profile's partition), as the kernel reports them now
 * @param units         the systemd unit properties the journal set, as systemd shows them now
 */
public record Status(String journalPath, JournalState journal, String journalProblem, int beforeImages,
        List<String> staleJournals, Optional<String> hook, List<Vm> vms, List<Drift> drift, List<Partition> partitions,
        List<UnitProperty> units) {

    public enum JournalState { NONE, CURRENT, STALE, UNREADABLE }

    /** True when the state needs attention: drift, threads off their pins, a stale, unreadable or partly refused journal. */
    public boolean needsAttention() {
        return !drift.isEmpty() || journalProblem != null || partitions.stream().anyMatch(p -> !p.valid())
                || vms.stream().anyMatch(v -> v.applied() && v.running().map(r -> r.threads().stream()
                        .anyMatch(t -> t.wanted() != null && !t.ok())).orElse(false));
    }

    /**
     * @param applied       the journal lists it (its isolation is in place)
     * @param appliedAt     when it was first applied (ISO-8601), or null
     * @param profileSource the profile applied, or the one installed (not applied)
     * @param profileChanged the installed profile differs from the one applied (takes effect at the next start)
     * @param beforeImages  before-images first saved for this VM
     * @param hostCpus      what its profile leaves the host, or null when no profile could be read
     * @param vcpuCpus      where its profile pins vCPUs, or null
     * @param notes         anything else worth knowing, one line each
     */
    public record Vm(String name, boolean applied, String appliedAt, String profileSource, boolean profileChanged,
            int beforeImages, CpuSet hostCpus, CpuSet vcpuCpus, Optional<Running> running, List<Report> reports,
            List<String> notes) {
    }

    /** The VM's QEMU (from /run/libvirt/qemu/VM.pid) and its threads. */
    public record Running(int pid, List<Thread> threads) {
    }

    /**
     * @param role   vcpu, iothread or emulator
     * @param now    where the thread may run now ({@code sched_getaffinity})
     * @param wanted where the profile puts it, or null (no profile, or a vCPU the profile does not pin)
     */
    public record Thread(int tid, String name, String role, int index, CpuSet now, CpuSet wanted) {
        public boolean ok() {
            return wanted == null || wanted.equals(now);
        }
    }

    /** A kept measurement report; {@code headline} is its first metrics, or why it could not be read. */
    public record Report(String stamp, String textFile, String headline) {
    }

    /**
     * @param expected what we wrote
     * @param now      what is there now ("(gone)" when the file or thread no longer exists)
     * @param original what was there before us
     */
    /**
     * @param cgroup the partition's cgroup directory
     * @param state  its cpuset.cpus.partition now: "isolated", "root", or the kernel's "isolated invalid (reason)"
     */
    public record Partition(String cgroup, String state) {
        public boolean valid() {
            return state.equals("root") || state.equals("isolated");
        }
    }

    public record Drift(String path, String vm, String expected, String now, String original) {
    }

    /** A unit's runtime property we set (AllowedCPUs of the host's slices), as systemd shows it {@code now}. */
    public record UnitProperty(String unit, String property, String now) {
    }
}
