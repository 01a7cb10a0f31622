package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfioorchestrator.cpu.CpuSet;

/**
 * Rules of the real kernel the lab found (lab/LabTest: Debian's 6.1 and 6.12 kernels, cgroup v2) that
 * the simulated kernel follows, so a tree answers as a real host would; and where older kernels' cpuset
 * partitions differ (kernel/cgroup/cpuset.c before 6.1), by the tree's osrelease.
 */
class TreeHostFsKernelRulesTest {
    @TempDir
    Path root;
    HostFs host;

    /** A cgroup v2 root with cpuset enabled, CPUs 0-3, and a cgroup 'work' with one task in it. */
    @BeforeEach
    void v2Host() throws IOException {
        write("sys/devices/system/cpu/online", "0-3");
        write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu memory pids");
        write("sys/fs/cgroup/cgroup.subtree_control", "memory pids");
        write("sys/fs/cgroup/cgroup.procs", "1");
        write("sys/fs/cgroup/cpuset.cpus.effective", "0-3");
        write("sys/fs/cgroup/work/cgroup.controllers", "memory pids");
        write("sys/fs/cgroup/work/cgroup.subtree_control", "");
        write("sys/fs/cgroup/work/cgroup.procs", "");
        write("proc/42/stat", "42 (sleep) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n");
        write("proc/42/task/42/stat", "42 (sleep) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n");
        host = HostFs.open(root);
        host.write("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset");
    }

    @Test
    void aPopulatedCgroupsCpusetCannotBeClearedButTakesTheParentsCpusAndClearsOnceEmpty() {
        host.write("/sys/fs/cgroup/work/cgroup.procs", "42");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-1");

        HostIoException e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/work/cpuset.cpus", ""));
        assertEquals(Errno.ENOSPC, e.errno());
        assertEquals("0-1", read("sys/fs/cgroup/work/cpuset.cpus"), "the refused write changed nothing");

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-3");
        assertEquals("0-3", read("sys/fs/cgroup/work/cpuset.cpus"));

        host.write("/sys/fs/cgroup/cgroup.procs", "42");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "");
        assertEquals("", read("sys/fs/cgroup/work/cpuset.cpus"));
    }

    @Test
    void aTaskInADescendantMakesTheCgroupPopulatedToo() throws IOException {
        host.mkdir("/sys/fs/cgroup/work/leaf");
        host.write("/sys/fs/cgroup/work/leaf/cgroup.procs", "42");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "2");
        assertEquals(Errno.ENOSPC, assertThrows(HostIoException.class,
                () -> host.write("/sys/fs/cgroup/work/cpuset.cpus", "")).errno());
    }

    @Test
    void effectiveCpusFollowTheCgroupsOwnAndItsParents() {
        assertEquals("0-3", read("sys/fs/cgroup/work/cpuset.cpus.effective"), "'' inherits the parent's");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "1-2");
        assertEquals("1-2", read("sys/fs/cgroup/work/cpuset.cpus.effective"));
        host.mkdir("/sys/fs/cgroup/work/leaf");
        host.write("/sys/fs/cgroup/work/cgroup.subtree_control", "+cpuset");
        assertEquals("1-2", read("sys/fs/cgroup/work/leaf/cpuset.cpus.effective"), "a new child inherits");
        host.write("/sys/fs/cgroup/work/leaf/cpuset.cpus", "2-3");
        assertEquals("2", read("sys/fs/cgroup/work/leaf/cpuset.cpus.effective"), "within the parent's");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0");
        assertEquals("0", read("sys/fs/cgroup/work/leaf/cpuset.cpus.effective"), "none left: all of the parent's");
    }

    @Test
    void anIrqWhoseCaptureHoldsOnlyTheListIsMovedWithoutATornWrite() throws IOException {
        write("proc/irq/9/smp_affinity_list", "0-3");
        host.write("/proc/irq/9/smp_affinity_list", "0-1");
        assertEquals("0-1", read("proc/irq/9/smp_affinity_list"));
        assertEquals(false, Files.exists(root.resolve("proc/irq/9/smp_affinity")), "no mask file made up");
    }

    /** The lab's 6.1 kernel (a tree without osrelease is taken for it): invalid until 'member' and the type again. */
    @Test
    void aPartitionNeedsCpusNoSiblingHoldsAndStaysInvalidUntilWrittenAgain() {
        host.mkdir("/sys/fs/cgroup/vms");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-2");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus", "2-3");

        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated invalid (Cpu list in cpuset.cpus not exclusive)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));
        assertEquals("0-2", read("sys/fs/cgroup/work/cpuset.cpus.effective"), "an invalid partition takes nothing");

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-1");
        assertEquals("isolated invalid (Cpu list in cpuset.cpus not exclusive)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"),
                "the kernel does not look again when the sibling gives the CPU up");

        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated invalid (Cpu list in cpuset.cpus not exclusive)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"),
                "nor when the same type is written again");

        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "member");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated", read("sys/fs/cgroup/vms/cpuset.cpus.partition"), "member first, then it looks again");
        assertEquals("2-3", read("sys/fs/cgroup/vms/cpuset.cpus.effective"));
    }

    /** The lab's 6.12 kernel: still invalid once the sibling gives the CPU up, but the same type written again looks again. */
    @Test
    void onLinux612APartitionWrittenAgainIsCheckedAgain() throws IOException {
        write("proc/sys/kernel/osrelease", "6.12.95+deb12-amd64\n");
        host.mkdir("/sys/fs/cgroup/vms");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-2");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus", "2-3");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated invalid (Cpu list in cpuset.cpus not exclusive)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-1");
        assertEquals("isolated invalid (Cpu list in cpuset.cpus not exclusive)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"),
                "the kernel does not look again when the sibling gives the CPU up");

        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated", read("sys/fs/cgroup/vms/cpuset.cpus.partition"), "written again, it looks again");
        assertEquals("2-3", read("sys/fs/cgroup/vms/cpuset.cpus.effective"));
        assertEquals("0-1", read("sys/fs/cgroup/work/cpuset.cpus.effective"));
    }

    /**
     * Debian 11's 5.10 (before 6.1 brought 'isolated' and invalid partitions): the kernel refuses what it cannot
     * make and nothing changes: 'isolated' and a root failing a check with EINVAL, a change while the cgroup has
     * child cpusets with EBUSY; a root that passes is made.
     */
    @Test
    void before61IsolatedIsUnknownAndARootTheKernelCannotMakeIsRefused() throws IOException {
        write("proc/sys/kernel/osrelease", "5.10.0-28-amd64\n");
        host.mkdir("/sys/fs/cgroup/vms");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus", "2-3");

        HostIoException e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated"));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("member", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-2");
        e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "root"));
        assertEquals(Errno.EINVAL, e.errno(), "CPU 2 is not exclusive");
        assertEquals("member", read("sys/fs/cgroup/vms/cpuset.cpus.partition"), "refused, never 'root invalid'");

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "root");
        assertEquals("root", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));
        assertEquals("0-1", read("sys/fs/cgroup/work/cpuset.cpus.effective"), "the partition's CPUs left it");

        host.mkdir("/sys/fs/cgroup/vms/vm1");
        host.write("/sys/fs/cgroup/vms/cgroup.subtree_control", "+cpuset");
        e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "member"));
        assertEquals(Errno.EBUSY, e.errno(), "a child cpuset holds it");
        assertEquals("root", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));
    }

    /** Debian 10's 4.19: cgroup v2's cpuset has no partitions, so no cgroup gets a cpuset.cpus.partition file. */
    @Test
    void before50NoCgroupHasAPartitionFile() throws IOException {
        write("proc/sys/kernel/osrelease", "4.19.0-27-amd64\n");
        host.write("/sys/fs/cgroup/cgroup.subtree_control", "-cpuset");
        host.write("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset");
        host.mkdir("/sys/fs/cgroup/vms");
        for (String cgroup : List.of("work", "vms")) {
            assertTrue(Files.exists(root.resolve("sys/fs/cgroup/" + cgroup + "/cpuset.cpus")), cgroup);
            assertFalse(Files.exists(root.resolve("sys/fs/cgroup/" + cgroup + "/cpuset.cpus.partition")), cgroup);
        }
        assertEquals(Errno.ENOENT, assertThrows(HostIoException.class,
                () -> host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "root")).errno());
    }

    /** The lab's kernels (6.1 and 6.12): the root's cpuset.cpus.effective loses a valid child partition's CPUs. */
    @Test
    void aValidPartitionsCpusLeaveItsParentItsSiblingsAndNoSiblingMayAskForThem() {
        host.mkdir("/sys/fs/cgroup/vms");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus", "2-3");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "root");
        assertEquals("root", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));
        assertEquals("2-3", read("sys/fs/cgroup/vms/cpuset.cpus.effective"));
        assertEquals("0-1", read("sys/fs/cgroup/cpuset.cpus.effective"), "the parent (here the top) loses them");
        assertEquals("0-1", read("sys/fs/cgroup/work/cpuset.cpus.effective"), "an inheriting sibling loses them");

        HostIoException e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/work/cpuset.cpus", "1-2"));
        assertEquals(Errno.EINVAL, e.errno());
        host.mkdir("/sys/fs/cgroup/late");
        assertEquals("0-1", read("sys/fs/cgroup/late/cpuset.cpus.effective"), "a cgroup made beside it never had them");

        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "member");
        assertEquals("member", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));
        assertEquals("0-3", read("sys/fs/cgroup/cpuset.cpus.effective"), "a member gives them back");
        assertEquals("0-3", read("sys/fs/cgroup/work/cpuset.cpus.effective"));
        assertEquals("0-3", read("sys/fs/cgroup/late/cpuset.cpus.effective"));
    }

    @Test
    void aPartitionWithoutCpusOrTakingTheParentsLastIsInvalidAndNonsenseIsRefused() {
        host.mkdir("/sys/fs/cgroup/vms");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "isolated");
        assertEquals("isolated invalid (cpuset.cpus is empty)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));

        host.write("/sys/fs/cgroup/vms/cpuset.cpus", "0-3");
        host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "root");
        assertEquals("root invalid (Parent unable to distribute cpu downstream)", read("sys/fs/cgroup/vms/cpuset.cpus.partition"));

        HostIoException e = assertThrows(HostIoException.class, () -> host.write("/sys/fs/cgroup/vms/cpuset.cpus.partition", "exclusive"));
        assertEquals(Errno.EINVAL, e.errno());
    }

    /**
     * sched_setaffinity within the thread's cpuset (the kernel's cpuset_cpus_allowed): the kernel sets what the
     * request and the cpuset both allow and refuses a request they share nothing of (EINVAL); the live kernel
     * does the same (LiveHostFsTest). A thread follows its process's cgroup.
     */
    @Test
    void aPinIsNarrowedToTheThreadsCpusetAndRefusedOutsideIt() throws IOException {
        thread(42, 43);
        host.write("/sys/fs/cgroup/work/cgroup.procs", "42");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-1");

        HostIoException e = assertThrows(HostIoException.class, () -> host.setThreadAffinity(43, CpuSet.of(2, 3)));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals(CpuSet.range(0, 3), host.threadAffinity(43), "the refused pin changed nothing");

        host.setThreadAffinity(43, CpuSet.of(1, 2));
        assertEquals(CpuSet.of(1), host.threadAffinity(43));
        assertEquals("Cpus_allowed:\t2", Files.readAllLines(root.resolve("proc/42/task/43/status")).get(1));
    }

    /**
     * The kernel keeps what a thread asked for (Linux 6.2+, user_cpus_ptr): when its cpuset's CPUs change, it gets
     * its request within them again. A revert relies on it: a thread pinned back while its cgroup is still
     * narrowed gets its old CPUs once the cgroup has them again.
     */
    @Test
    void aThreadNarrowedByItsCpusetGetsWhatItAskedForAsTheCpusetChanges() throws IOException {
        thread(42, 43);
        host.write("/sys/fs/cgroup/work/cgroup.procs", "42");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "1");
        host.setThreadAffinity(43, CpuSet.range(0, 2));
        assertEquals(CpuSet.of(1), host.threadAffinity(43));

        host.write("/sys/fs/cgroup/work/cpuset.cpus", "1-3");
        assertEquals(CpuSet.range(1, 2), host.threadAffinity(43), "within the cpuset, what it asked for");
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "3");
        assertEquals(CpuSet.of(3), host.threadAffinity(43), "nothing it asked for is left: all the cpuset has");
        host.write("/sys/fs/cgroup/cgroup.procs", "42");
        assertEquals(CpuSet.range(0, 2), host.threadAffinity(43), "moved where every CPU is allowed: all it asked for");
        assertEquals(CpuSet.range(0, 3), host.threadAffinity(42), "a thread that asked for nothing keeps its CPUs");
    }

    /** A cgroup without cpuset files (its parent does not enable the controller) is held to its nearest ancestor's CPUs. */
    @Test
    void aCgroupWithoutCpusetFilesHoldsItsThreadsToTheNearestAncestorsCpus() throws IOException {
        thread(42, 42);
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "1-2");
        host.mkdir("/sys/fs/cgroup/work/leaf");
        host.write("/sys/fs/cgroup/work/leaf/cgroup.procs", "42");

        host.setThreadAffinity(42, CpuSet.of(0, 1));
        assertEquals(CpuSet.of(1), host.threadAffinity(42));
        assertEquals(Errno.EINVAL, assertThrows(HostIoException.class, () -> host.setThreadAffinity(42, CpuSet.of(3))).errno());
    }

    /** Where the tree holds the thread in no cgroup, any online CPU goes, as before cpusets were simulated. */
    @Test
    void aThreadInNoCgroupOfTheTreeMayBePinnedToAnyOnlineCpu() throws IOException {
        thread(42, 43);
        host.write("/sys/fs/cgroup/work/cpuset.cpus", "0-1");
        host.setThreadAffinity(43, CpuSet.of(3));
        assertEquals(CpuSet.of(3), host.threadAffinity(43));
    }

    /** The same on cgroup v1: a thread is in the cpuset whose tasks list it, held to its cpuset.cpus. */
    @Test
    void onCgroupV1APinIsNarrowedToTheThreadsCpusetAndRefusedOutsideIt(@TempDir Path v1) throws IOException {
        TreeFiles.v1ThreadInCpuset(v1, CpuSet.range(0, 1), "probe", CpuSet.of(0), 77);
        HostFs tree = HostFs.open(v1);

        assertEquals(Errno.EINVAL, assertThrows(HostIoException.class, () -> tree.setThreadAffinity(77, CpuSet.of(1))).errno());
        assertEquals(CpuSet.of(0), tree.threadAffinity(77), "the refused pin changed nothing");
        tree.setThreadAffinity(77, CpuSet.range(0, 1));
        assertEquals(CpuSet.of(0), tree.threadAffinity(77));
    }

    /** Thread {@code tid} of process {@code pid} (the process's own /proc entries too), allowed on CPUs 0-3. */
    private void thread(int pid, int tid) throws IOException {
        for (int t : new int[] {pid, tid}) {
            String dir = "proc/" + pid + "/task/" + t;
            write(dir + "/stat", t + " (sleep) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0");
            write(dir + "/status", "Name:\tsleep\nCpus_allowed:\tf\nCpus_allowed_list:\t0-3");
        }
    }

    private void write(String file, String content) throws IOException {
        TreeFiles.write(root, file, content);
    }

    private String read(String file) {
        return TreeFiles.read(root, file);
    }
}
