package org.vfioorchestrator.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One boot of the lab guest under QEMU: a throw-away overlay over the cached image, the host folder
 * {@code share} mounted in the guest at /lab (9p), the serial console in a file. The guest runs
 * /lab/run and powers off; this waits for that, printing the guest's progress lines as they come.
 */
final class LabVm {
    private LabVm() {
    }

    record Boot(boolean timedOut, int exitCode, double seconds, Path console) {
    }

    static Boot run(LabImage image, String kernel, String append, Path work, Path share, long timeoutMinutes, String tag)
            throws IOException, InterruptedException {
        Path overlay = work.resolve("overlay.qcow2");
        Files.deleteIfExists(overlay);
        Process img = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                image.rootfs().toString(), overlay.toString()).inheritIO().start();
        if (img.waitFor() != 0) {
            throw new IOException("qemu-img create exited " + img.exitValue());
        }
        Path console = work.resolve("console.log");
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-name", "vfio-lab-" + tag,
                // an Intel model: QEMU shows an Intel guest its SMT siblings under TCG, an AMD one needs topoext, which TCG lacks
                "-machine", "q35", "-accel", accelerator(kernel), "-cpu", "Nehalem",
                // the topology the issue asks for: one socket, two cores of two threads
                "-smp", "4,sockets=1,cores=2,threads=2", "-m", "2048",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "file:" + console,
                "-kernel", image.kernel(kernel).toString(), "-initrd", image.initrd(kernel).toString(),
                "-append", ("root=/dev/vda rw console=ttyS0 panic=-1 " + append).strip(),
                "-drive", "file=" + overlay + ",if=virtio,format=qcow2,cache=unsafe",
                "-virtfs", "local,path=" + share + ",mount_tag=lab,security_model=none,id=lab",
                "-device", "virtio-rng-pci"));
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("qemu.log").toFile()).start();
        Path progress = share.resolve("out/run.log");
        long shown = 0;
        long deadline = start + TimeUnit.MINUTES.toNanos(timeoutMinutes);
        try {
            while (!qemu.waitFor(2, TimeUnit.SECONDS)) {
                shown = showProgress(progress, shown, tag);
                if (System.nanoTime() > deadline) {
                    qemu.destroy();
                    if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                        qemu.destroyForcibly().waitFor();
                    }
                    return new Boot(true, -1, (System.nanoTime() - start) / 1e9, console);
                }
            }
            showProgress(progress, shown, tag);
            return new Boot(false, qemu.exitValue(), (System.nanoTime() - start) / 1e9, console);
        } finally {
            if (qemu.isAlive()) {
                qemu.destroyForcibly().waitFor();
            }
            Files.deleteIfExists(overlay);
        }
    }

    /**
     * KVM only when asked for (VFIO_LAB_KVM=1): where /dev/kvm exists it may still be unable to boot a stock kernel.
     * The newer kernel gets one TCG thread for its vCPUs: it rewrites its own code while running (static keys, which
     * enabling cpusets flips), and under QEMU 7.2's multi-threaded TCG another vCPU ran into the breakpoint of such
     * a rewrite (a kernel Oops, int3 in __alloc_pages, during a daemon-reload, once in four boots).
     */
    private static String accelerator(String kernel) {
        if ("1".equals(System.getenv("VFIO_LAB_KVM"))) {
            return "kvm";
        }
        return kernel.equals("new") ? "tcg,thread=single" : "tcg,thread=multi";
    }

    private static long showProgress(Path log, long shown, String tag) throws IOException {
        if (!Files.exists(log)) {
            return shown;
        }
        byte[] all = Files.readAllBytes(log);
        if (all.length <= shown) {
            return shown;
        }
        String text = new String(all, (int) shown, (int) (all.length - shown));
        int end = text.lastIndexOf('\n');
        if (end < 0) {
            return shown;
        }
        for (String line : text.substring(0, end).split("\n")) {
            System.out.println("lab " + tag + ": " + line);
        }
        return shown + text.substring(0, end + 1).getBytes().length;
    }
}
