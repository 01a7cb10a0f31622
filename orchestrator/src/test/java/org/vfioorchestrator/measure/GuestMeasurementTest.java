package org.vfioorchestrator.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.domain.DomainXml;
import org.vfioorchestrator.libvirt.AgentException;

/** cyclictest and oslat inside a guest through its agent (a {@link FakeGuestAgent}), and every way that goes wrong. */
class GuestMeasurementTest {
    static final String WITH_CHANNEL = "<domain type='qemu'><name>lab</name><devices><channel type='unix'>"
            + "<target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>";
    static final String WITHOUT_CHANNEL = "<domain type='qemu'><name>lab</name><devices><channel type='pty'>"
            + "<target type='virtio' name='org.qemu.spice.0'/></channel></devices></domain>";
    static final ProbePolicy FIFO = GuestMeasurement.defaultPolicy();

    final FakeGuestAgent agent = new FakeGuestAgent();
    final FakeTicker ticker = new FakeTicker(Instant.EPOCH, s -> { });

    GuestMeasurement measurement(String xml, ProbeTool tool, Duration agentWait) {
        Domain domain = DomainXml.parse(xml, "test");
        return new GuestMeasurement("lab", () -> domain, () -> agent, new GuestMeasurement.Settings(tool, FIFO, agentWait),
                ticker);
    }

    GuestMeasurement strict() {
        return measurement(WITH_CHANNEL, ProbeTool.AUTO, Duration.ZERO);
    }

    @Test
    void cyclictestRunsWithTheProbesParametersOnEveryGuestCpuAndItsHistogramComesBack() {
        agent.vcpus = "[{\"online\":true,\"logical-id\":0},{\"online\":false,\"logical-id\":1},{\"online\":true,\"logical-id\":2}]";
        agent.out = RtTestsOutputTest.resource("cyclictest-2.4-histogram.txt");
        GuestResult r;
        try (GuestMeasurement.Session s = strict().start(20)) {
            assertEquals(Optional.empty(), s.note());
            r = s.finish().orElseThrow();
        }
        assertEquals(List.of("cyclictest", "-m", "-q", "-p95", "-i200", "--histogram=10000", "--affinity=0,2", "-t", "2",
                "-D", "20"), agent.execArgv());
        assertEquals("Debian GNU/Linux 12 (bookworm)", r.os());
        assertEquals("6.1.0-57-amd64", r.kernel());
        ProbeResult p = r.latency();
        assertEquals("cyclictest -m -q -p95 -i200 --histogram=10000 --affinity=0,2 -t 2 -D 20", p.command());
        assertEquals(CpuSet.of(0, 2), p.cpus());
        assertEquals(List.of(0, 2), p.perCpu().stream().map(CpuLatency::cpu).toList(), "the guest's CPU numbers");
        assertEquals(2, agent.count("guest-exec-status"), "asked until it exited");
        assertTrue(agent.closed);
    }

    @Test
    void oneGuestCpusFiguresAreTheHistogramsPercentiles() {
        agent.out = RtTestsOutputTest.resource("cyclictest-2.4-one-thread.txt");
        CpuLatency c;
        try (GuestMeasurement.Session s = strict().start(2)) {
            c = s.finish().orElseThrow().latency().perCpu().get(0);
        }
        assertEquals(0, c.cpu());
        assertEquals(9862, c.samples());
        assertEquals(116, c.p99Us());
        assertEquals(906, c.p999Us());
        assertEquals(3008, c.maxUs());
    }

    @Test
    void oslatRunsItsBusyLoopOnTheGuestsCpus() {
        agent.out = RtTestsOutputTest.resource("oslat-2.4-zero-omit.txt");
        ProbeResult p;
        try (GuestMeasurement.Session s = measurement(WITH_CHANNEL, ProbeTool.OSLAT, Duration.ZERO).start(5)) {
            p = s.finish().orElseThrow().latency();
        }
        assertEquals(List.of("oslat", "--cpu-list", "0", "--cpu-main-thread", "0", "-D", "5", "--bucket-size", "1024",
                "--zero-omit", "--rtprio", "95"), agent.execArgv());
        assertEquals("oslat", p.tool());
    }

    @Test
    void aDomainWithoutTheAgentChannelGetsTheChannelToAdd() {
        OrchestratorException e = assertThrows(OrchestratorException.class,
                () -> measurement(WITHOUT_CHANNEL, ProbeTool.AUTO, Duration.ZERO).start(20));
        assertEquals("VM lab has no guest agent channel: add <channel type='unix'><target type='virtio'"
                + " name='org.qemu.guest_agent.0'/></channel> to its <devices> ('virsh edit lab'), restart it, and install"
                + " qemu-guest-agent in the guest", e.getMessage());
        assertEquals(List.of(), agent.sent, "libvirt is not asked");
    }

    @Test
    void anAgentThatDoesNotAnswerSaysWhatToInstallAndHowToWait() {
        agent.pingsBeforeUp = 1;
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> strict().start(20));
        assertEquals("the guest agent of VM lab does not answer (libvirt: Guest agent is not responding: QEMU guest agent"
                + " is not connected): install qemu-guest-agent in the guest and start it (systemctl enable --now"
                + " qemu-guest-agent); for a guest that is still booting, give it time with --agent-wait 2m", e.getMessage());
        assertTrue(agent.closed, "the connection is closed on the way out");
    }

    @Test
    void withAgentWaitABootingGuestIsAskedAgainUntilItsAgentAnswers() {
        agent.pingsBeforeUp = 20; // 40 s at one ping every 2 s
        agent.out = RtTestsOutputTest.resource("cyclictest-2.4-one-thread.txt");
        try (GuestMeasurement.Session s = measurement(WITH_CHANNEL, ProbeTool.AUTO, Duration.ofMinutes(1)).start(2)) {
            assertTrue(s.finish().isPresent());
        }
        assertEquals(21, agent.count("guest-ping"));
    }

    @Test
    void withAgentWaitAnAgentThatNeverAnswersLeavesTheHostSideFiguresAndANote() {
        agent.pingsBeforeUp = 1000;
        try (GuestMeasurement.Session s = measurement(WITH_CHANNEL, ProbeTool.AUTO, Duration.ofSeconds(10)).start(2)) {
            assertEquals(Optional.of("no figures from inside the guest: the guest agent of VM lab does not answer (libvirt:"
                    + " Guest agent is not responding: QEMU guest agent is not connected) within 10s: install"
                    + " qemu-guest-agent in the guest and start it (systemctl enable --now qemu-guest-agent)"), s.note());
            assertEquals(Optional.empty(), s.finish());
        }
        assertEquals(6, agent.count("guest-ping"), "at 0, 2, 4, 6, 8 and 10 s");
        assertEquals(0, agent.count("guest-exec"));
    }

    @Test
    void withAgentWaitEvenAMissingChannelIsOnlyANote() {
        try (GuestMeasurement.Session s = measurement(WITHOUT_CHANNEL, ProbeTool.AUTO, Duration.ofMinutes(5)).start(2)) {
            assertTrue(s.note().orElseThrow().startsWith("no figures from inside the guest: VM lab has no guest agent channel"),
                    s.note().toString());
        }
    }

    @Test
    void aWindowsGuestGetsHostSideFiguresOnlyAndIsToldWhy() {
        agent.osId = "mswindows";
        agent.prettyName = "Microsoft Windows 11 Pro";
        try (GuestMeasurement.Session s = strict().start(20)) {
            assertEquals(Optional.of("VM lab runs Microsoft Windows 11 Pro: cyclictest and oslat run in Linux guests only,"
                    + " so these are the host-side figures only"), s.note());
            assertEquals(Optional.empty(), s.finish());
        }
        assertEquals(0, agent.count("guest-exec"));
    }

    @Test
    void aToolMissingInTheGuestNamesItsPackage() {
        agent.execFails = new AgentException(AgentException.Kind.GUEST_ERROR,
                "Failed to execute child process “cyclictest” (No such file or directory)");
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> strict().start(20));
        assertEquals("cyclictest is not installed in the guest of VM lab (Failed to execute child process “cyclictest”"
                + " (No such file or directory)): install rt-tests there (apt install rt-tests; on Fedora and RHEL dnf"
                + " install realtime-tests)", e.getMessage());
    }

    @Test
    void aGuestThatBlocksGuestExecSaysWhereToAllowIt() {
        agent.execFails = new AgentException(AgentException.Kind.DISABLED,
                "unable to execute QEMU agent command 'guest-exec': The command guest-exec has been disabled for this instance");
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> strict().start(20));
        assertEquals("the guest agent of VM lab refuses to run programs (libvirt: unable to execute QEMU agent command"
                + " 'guest-exec': The command guest-exec has been disabled for this instance): allow guest-exec in the guest's"
                + " agent configuration (on Fedora and RHEL remove it from the block list in /etc/sysconfig/qemu-ga), then"
                + " restart qemu-guest-agent", e.getMessage());
    }

    @Test
    void aToolThatFailsInTheGuestShowsItsLastLine() {
        agent.exitCode = 255;
        agent.err = "WARN: stat /dev/cpu_dma_latency failed\nunable to change scheduling policy!\n";
        try (GuestMeasurement.Session s = strict().start(20)) {
            OrchestratorException e = assertThrows(OrchestratorException.class, s::finish);
            assertEquals("cyclictest failed in the guest of VM lab (exit 255): unable to change scheduling policy!",
                    e.getMessage());
        }
    }

    @Test
    void aToolThatNeverEndsIsGivenUpOnAMinuteAfterItsDuration() {
        agent.pollsUntilExit = Integer.MAX_VALUE;
        try (GuestMeasurement.Session s = strict().start(20)) {
            OrchestratorException e = assertThrows(OrchestratorException.class, s::finish);
            assertEquals("cyclictest in the guest of VM lab did not finish within 80 s (guest pid 275); is the guest"
                    + " overloaded or hung?", e.getMessage());
        }
        assertEquals(162, agent.count("guest-exec-status"), "every 0.5 s until more than 80 s have passed");
    }

    @Test
    void outputThatIsNotTheToolsIsADataErrorSayingSo() {
        agent.out = "Segmentation fault\n";
        try (GuestMeasurement.Session s = strict().start(20)) {
            OrchestratorException e = assertThrows(OrchestratorException.class, s::finish);
            assertEquals("cyclictest in the guest of VM lab printed something this tool cannot read: no '# Histogram' line:"
                    + " not cyclictest -h output", e.getMessage());
        }
        assertFalse(agent.sent.isEmpty());
    }
}
