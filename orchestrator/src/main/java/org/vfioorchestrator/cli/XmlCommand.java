package org.vfioorchestrator.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.plan.DomainCheck;
import org.vfioorchestrator.plan.PlanService;
import org.vfioorchestrator.profile.Profile;
import org.vfioorchestrator.profile.ProfileStore;
import org.vfioorchestrator.qemu.QemuProcess;
import org.vfioorchestrator.qemu.ThreadRole;
import org.vfioorchestrator.status.CputuneXml;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "xml", header = "Print the libvirt <cputune> equivalent of a profile.", mixinStandardHelpOptions = true,
        description = {"Print the libvirt <cputune> (vcpupin, emulatorpin, iothreadpin) that pins QEMU's threads as the "
            + "VM's profile does, for those who prefer libvirt to pin them. The host side (cpusets, IRQs, workqueues, "
            + "governor, C-states) still needs the hook. Iothread ids come from --domain FILE, else from the running "
            + "QEMU, else iothread 1 is shown as an example."})
final class XmlCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "VM", description = "The libvirt domain name.")
    String vm;

    @Mixin
    ProfileArgs profileArgs;

    @Option(names = "--domain", paramLabel = "FILE", description = "The VM's domain XML ('virsh dumpxml VM > FILE'), for its"
            + " iothread ids; also checked against the profile.")
    Path domainFile;

    @Mixin
    HostOptions hostOptions;

    @Override
    public Integer call() {
        ProfileStore.checkVmName(vm);
        PlanService service = new PlanService(hostOptions.open());
        Profile profile = service.load(profileArgs.locate(service.host(), vm, false)).requireVm(vm);
        List<Integer> ids = null;
        Optional<Boolean> tcg = Optional.empty();
        if (domainFile != null) {
            Domain d = DomainXml.read(domainFile);
            DomainCheck.check(profile, d.facts());
            ids = d.iothreadIds();
            tcg = Optional.of(d.tcg());
        } else {
            Optional<QemuProcess> q = QemuProcess.find(service.host(), vm);
            ids = q.map(p -> p.threads(ThreadRole.IOTHREAD).stream().map(t -> t.index()).distinct().sorted().toList())
                    .orElse(null);
            tcg = q.map(QemuProcess::tcg);
        }
        spec.commandLine().getOut().print(CputuneXml.render(profile, ids, tcg));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
