package org.vfioorchestrator.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.file.Path;
import java.util.Optional;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.cpu.CpuSetFormatException;

/** The running kernel: files under {@code /}; thread affinity read from /proc, set through libc. */
final class LiveHostFs extends FileTreeHostFs {

    /** libc's affinity call; the mask is a cpu_set_t, CPU n at bit n%8 of byte n/8. */
    private interface LibC extends Library {
        int sched_setaffinity(int pid, NativeLong size, byte[] mask) throws LastErrorException;
    }

    private static final int MASK_BYTES = CpuSet.MAX_CPUS / 8;
    private static LibC libc; // only through libc(), which is synchronized

    LiveHostFs() {
        super(Path.of("/"));
    }

    @Override
    protected boolean durable() {
        return true;
    }

    @Override
    public boolean isLive() {
        return true;
    }

    @Override
    public Optional<Systemd> systemd() {
        return isDirectory("/run/systemd/system")
                ? Optional.of(new LiveSystemd(org.vfioorchestrator.process.CommandRunner.system())) : Optional.empty();
    }

    /**
     * libc's binding, loaded on first use. JNA takes about 80 ms to load in a fresh JVM (its
     * native library unpacked from the jar, java.util.logging, a proxy class), so only setting
     * an affinity needs it; {@link #expectAffinityChanges} loads it early on another thread.
     */
    private static synchronized LibC libc() {
        if (libc == null) {
            // JNA's search path for libraries otherwise starts with running /sbin/ldconfig -p (a process
            // per hook call); "c" is found without it, in the process itself
            if (System.getProperty("jna.platform.library.path") == null) {
                System.setProperty("jna.platform.library.path", "");
            }
            libc = Native.load("c", LibC.class);
        }
        return libc;
    }

    @Override
    public void expectAffinityChanges() {
        Thread loader = new Thread(new LibcLoader(), "vfio-orchestrator libc loader");
        loader.setDaemon(true);
        loader.start();
    }

    /** Loads libc's binding while the caller reads the host. */
    private static final class LibcLoader implements Runnable {
        @Override
        public void run() {
            try {
                libc();
            } catch (RuntimeException | LinkageError e) {
                // the first affinity change loads it again and reports what failed
            }
        }
    }

    /**
     * The kernel prints the mask sched_getaffinity answers with in /proc/TID/status, for any
     * thread id (a thread's directory is hidden from /proc's listing, not from a lookup): a read,
     * where the system call would need libc's binding.
     */
    @Override
    public CpuSet threadAffinity(int tid) {
        String file = "/proc/" + tid + "/status";
        Optional<String> status = read(file);
        if (status.isEmpty()) {
            throw new HostIoException("/proc/" + tid, Errno.ESRCH, Errno.ESRCH.text());
        }
        Optional<String> allowed = KernelText.statusField(status.get(), "Cpus_allowed_list");
        if (allowed.isEmpty()) {
            throw new HostIoException(file, Errno.OTHER, "has no Cpus_allowed_list line");
        }
        try {
            return CpuSet.parseList(allowed.get());
        } catch (CpuSetFormatException e) {
            throw new HostIoException(file, Errno.OTHER, "Cpus_allowed_list is not a CPU list: " + e.getMessage());
        }
    }

    @Override
    public void setThreadAffinity(int tid, CpuSet cpus) {
        byte[] mask = new byte[MASK_BYTES];
        for (int i : cpus.toList()) {
            mask[i / 8] |= (byte) (1 << (i % 8));
        }
        try {
            libc().sched_setaffinity(tid, new NativeLong(MASK_BYTES), mask);
        } catch (LastErrorException e) {
            throw new HostIoException("/proc/" + tid, errnoOf(e.getErrorCode()), "sched_setaffinity(" + cpus + ") failed");
        }
    }

    private static Errno errnoOf(int code) {
        return switch (code) {
            case 1 -> Errno.EPERM;
            case 3 -> Errno.ESRCH;
            case 22 -> Errno.EINVAL;
            default -> Errno.OTHER;
        };
    }
}
