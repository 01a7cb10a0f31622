package org.vfioorchestrator.install;

import java.nio.file.Path;
import java.util.Optional;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;

/** The libvirt daemon a new hook must be announced to: it reads hooks only when it starts or reloads. */
final class LibvirtDaemon {
    private LibvirtDaemon() {
    }

    /** libvirt looks for hooks when the daemon starts or reloads (SIGHUP), not later: a running one must be told. */
    static String reloadNote(String daemon) {
        return daemon + " is running, and it looks for hooks only when it starts or reloads: run 'systemctl reload "
                + daemon + "' (without systemd: kill -HUP $(pidof " + daemon + ")); running VMs carry on";
    }

    /** The libvirt daemon that runs the qemu driver, if one is running: libvirtd, or virtqemud (split daemons). */
    static Optional<String> running(Path root) {
        HostFs host = HostFs.open(root);
        for (String pid : host.list("/proc")) {
            if (KernelText.isNumber(pid)) {
                try {
                    String comm = host.read("/proc/" + pid + "/comm").orElse("").strip();
                    if (comm.equals("libvirtd") || comm.equals("virtqemud")) {
                        return Optional.of(comm);
                    }
                } catch (RuntimeException e) {
                    // exited while we looked
                }
            }
        }
        return Optional.empty();
    }
}
