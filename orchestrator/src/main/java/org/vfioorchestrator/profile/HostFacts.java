package org.vfioorchestrator.profile;

import java.util.ArrayList;
import java.util.List;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.host.KernelText;
import org.vfioorchestrator.topology.Topology;
import org.vfioorchestrator.topology.TopologyReader;

/** What profile validation needs to know about the host: its CPUs, governors, workqueues and cgroups. */
public final class HostFacts {
    private final HostFs host;
    private final Topology topology;

    public HostFacts(HostFs host, Topology topology) {
        this.host = host;
        this.topology = topology;
    }

    public static HostFacts read(HostFs host) {
        return new HostFacts(host, TopologyReader.read(host));
    }

    public Topology topology() {
        return topology;
    }

    public CpuSet present() {
        return topology.present();
    }

    public CpuSet online() {
        return topology.online();
    }

    /** The governors a CPU offers; empty when it has no cpufreq driver. */
    public List<String> governorsOffered(int cpu) {
        String text = host.read("/sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_available_governors").orElse("");
        return KernelText.words(text);
    }

    /** A cgroup directory (v1 or v2, a hierarchy's root or below it): it lists its processes. */
    public boolean isCgroup(String path) {
        return host.exists(path + "/cgroup.procs");
    }

    public boolean workqueueHasCpumask(String name) {
        return host.exists("/sys/devices/virtual/workqueue/" + name + "/cpumask");
    }

    public List<String> workqueuesWithCpumask() {
        List<String> out = new ArrayList<>();
        for (String name : host.list("/sys/devices/virtual/workqueue")) {
            if (workqueueHasCpumask(name)) {
                out.add(name);
            }
        }
        return out;
    }
}
