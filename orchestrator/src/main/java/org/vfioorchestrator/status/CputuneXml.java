package org.vfioorchestrator.status;

import java.util.List;
import java.util.Optional;
import org.vfioorchestrator.profile.Profile;

/**
 * A profile's thread pins as libvirt's {@code <cputune>}, for users who prefer libvirt to
 * pin QEMU's threads. libvirt cannot do the rest (cpusets of the host, IRQs, workqueues,
 * governor, C-states): that stays with the hook.
 */
public final class CputuneXml {
    private CputuneXml() {
    }

    /**
     * @param iothreadIds the domain's iothread ids (from {@code <iothreadids>} or 1..{@code <iothreads>});
     *                    null when unknown, then a comment says how to add them
     * @param tcg         whether the VM runs without KVM, when known (the emulator's place depends on it)
     */
    public static String render(Profile p, List<Integer> iothreadIds, Optional<Boolean> tcg) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- ").append(p.vm()).append(": the thread pins of ").append(p.source())
                .append(" ('virsh edit ").append(p.vm()).append("', inside <domain>).\n")
                .append("     The hook still isolates the host side: cpusets, IRQs, workqueues, governor, C-states. -->\n");
        sb.append("<cputune>\n");
        for (int v = 0; v < p.vcpuPins().size(); v++) {
            sb.append("  <vcpupin vcpu='").append(v).append("' cpuset='").append(p.vcpuPins().get(v)).append("'/>\n");
        }
        sb.append("  <emulatorpin cpuset='").append(p.emulatorCpus(tcg.orElse(false))).append("'/>\n");
        if (tcg.isEmpty() && !p.emulatorCpus(true).equals(p.emulatorCpus(false))) {
            sb.append("  <!-- that is under KVM; without KVM (<domain type='qemu'>) <emulatorpin cpuset='")
                    .append(p.emulatorCpus(true)).append("'/>, vCPU 0's CPU -->\n");
        }
        if (iothreadIds == null) {
            sb.append("  <!-- one per iothread id of the domain (<iothreads>N</iothreads>: ids 1..N), e.g.: -->\n");
            sb.append("  <iothreadpin iothread='1' cpuset='").append(p.iothreadCpus()).append("'/>\n");
        } else {
            for (int id : iothreadIds) {
                sb.append("  <iothreadpin iothread='").append(id).append("' cpuset='").append(p.iothreadCpus()).append("'/>\n");
            }
        }
        sb.append("</cputune>\n");
        return sb.toString();
    }
}
