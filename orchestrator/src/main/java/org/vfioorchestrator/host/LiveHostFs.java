package org.vfioorchestrator.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.file.Path;
import org.vfioorchestrator.cpu.CpuSet;

/** The running kernel: files under {@code /}, thread affinity through libc. */
final class LiveHostFs extends FileTreeHostFs {

    /** libc's affinity calls; the mask is a cpu_set_t, CPU n at bit n%8 of byte n/8. */
    private interface LibC extends Library {
        int sched_setaffinity(int pid, NativeLong size, byte[] mask) throws LastErrorException;

        int sched_getaffinity(int pid, NativeLong size, byte[] mask) throws LastErrorException;
    }

    private static final int MASK_BYTES = CpuSet.MAX_CPUS / 8;
    private static volatile LibC libc;

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

    private static LibC libc() {
        if (libc == null) {
            libc = Native.load("c", LibC.class);
        }
        return libc;
    }

    @Override
    public CpuSet threadAffinity(int tid) {
        byte[] mask = new byte[MASK_BYTES];
        try {
            libc().sched_getaffinity(tid, new NativeLong(MASK_BYTES), mask);
        } catch (LastErrorException e) {
            throw new HostIoException("/proc/" + tid, errnoOf(e.getErrorCode()), "sched_getaffinity failed");
        }
        java.util.List<Integer> cpus = new java.util.ArrayList<>();
        for (int i = 0; i < CpuSet.MAX_CPUS; i++) {
            if ((mask[i / 8] & (1 << (i % 8))) != 0) {
                cpus.add(i);
            }
        }
        return CpuSet.of(cpus);
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
