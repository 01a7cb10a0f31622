package org.vfioorchestrator.apply;

import java.util.Set;
import org.vfioorchestrator.host.HostFs;

/**
 * One empty file per VM the journal holds, {@code /run/vfio-orchestrator/applied/VM}, for the hook shim:
 * a VM without a profile and without a marker has nothing to revert, so its stop starts no JVM. The
 * markers always cover the journal's VMs, also after a crash: they are made before a journal that names
 * a VM is saved, and removed only after one that no longer names it is.
 */
final class AppliedMarkers {
    static final String DIR = JournalStore.STATE_DIR + "/applied";

    private final HostFs host;
    private final JournalStore store;

    AppliedMarkers(HostFs host, JournalStore store) {
        this.host = host;
        this.store = store;
    }

    /** Before a journal holding {@code vms} is saved: a marker for each. */
    void cover(Set<String> vms) {
        if (vms.isEmpty()) {
            return;
        }
        if (!host.exists(DIR)) {
            host.createPrivateDirectories(DIR);
        }
        store.checkPrivateDirectory(DIR);
        for (String vm : vms) {
            // an empty file, created as a log file is: mode 0600, never through a symlink, and no /run space needed
            host.append(DIR + "/" + vm, "");
        }
    }

    /** After a journal holding {@code vms} was saved (or removed, with none): no marker for any other. */
    void keepOnly(Set<String> vms) {
        if (!host.exists(DIR)) {
            return;
        }
        store.checkPrivateDirectory(DIR);
        for (String name : host.list(DIR)) {
            if (!vms.contains(name)) {
                host.delete(DIR + "/" + name);
            }
        }
    }
}
