package org.vfioorchestrator.measure;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.domain.Domain;
import org.vfioorchestrator.libvirt.AgentException;
import org.vfioorchestrator.libvirt.GuestAgentConnection;

/**
 * Runs cyclictest or oslat inside a Linux guest through its QEMU guest agent, with the probe's
 * parameters, while {@link MeasurementService} samples the VM from the host: what the guest's own
 * software sees beside what the host did to it.
 *
 * <p>Each problem the user can fix is one message with the fix: no agent channel in the domain, no
 * agent answering, the tool not installed, guest-exec blocked. With {@code agentWait} (the measurement
 * the hook starts with a VM) the agent is given that long to come up, and any of these becomes a note
 * on a host-side report instead. A Windows guest always gets host-side figures and a note.
 */
public final class GuestMeasurement {
    /** How often a running tool is asked whether it is done, and a booting guest's agent whether it is up. */
    static final Duration POLL = Duration.ofMillis(500);
    static final Duration AGENT_RETRY = Duration.ofSeconds(2);
    /** What the tool may take beyond its duration before it counts as hung (mlockall of a big guest, a slow start). */
    static final Duration SLACK = Duration.ofSeconds(60);

    /**
     * @param tool      cyclictest or oslat (AUTO is cyclictest)
     * @param agentWait how long a guest that is still booting may take to answer; zero: it must answer now
     */
    public record Settings(ProbeTool tool, ProbePolicy policy, Duration agentWait) {
        public Settings {
            if (tool == ProbeTool.JAVA) {
                throw new IllegalArgumentException("the built-in busy loop runs on the host only");
            }
        }

        String toolName() {
            return tool == ProbeTool.OSLAT ? "oslat" : "cyclictest";
        }

        boolean lenient() {
            return !agentWait.isZero();
        }
    }

    /** The policy inside a guest unless --policy says otherwise: cyclictest's usual SCHED_FIFO 95. */
    public static ProbePolicy defaultPolicy() {
        return ProbePolicy.fifo(ProbePolicy.DEFAULT_FIFO_PRIORITY, "the default inside a guest: a real-time thread,"
                + " as cyclictest is usually run");
    }

    private final String vm;
    private final Supplier<Domain> domain;
    private final Supplier<GuestAgentConnection> connect;
    private final Settings settings;
    private final Ticker ticker;

    /**
     * @param domain  the VM's domain XML (read when the measurement starts: it tells whether there is an agent channel)
     * @param connect opens the agent connection
     */
    public GuestMeasurement(String vm, Supplier<Domain> domain, Supplier<GuestAgentConnection> connect, Settings settings,
            Ticker ticker) {
        this.vm = vm;
        this.domain = domain;
        this.connect = connect;
        this.settings = settings;
        this.ticker = ticker;
    }

    /**
     * The tool running in the guest, or (for a Windows guest, or a lenient measurement that could not
     * start it) the note that says why there are host-side figures only. Close it when done.
     */
    public final class Session implements AutoCloseable {
        private final GuestAgentConnection conn;
        private final GuestAgent agent;
        private final GuestAgent.OsInfo os;
        private final CpuSet cpus;
        private final List<String> argv;
        private final long pid;
        private final long startedNanos;
        private final int seconds;
        private final String note;

        private Session(GuestAgentConnection conn, GuestAgent.OsInfo os, CpuSet cpus, List<String> argv, long pid,
                int seconds, String note) {
            this.conn = conn;
            this.agent = conn == null ? null : new GuestAgent(conn);
            this.os = os;
            this.cpus = cpus;
            this.argv = argv;
            this.pid = pid;
            this.startedNanos = ticker.nanoTime();
            this.seconds = seconds;
            this.note = note;
        }

        /** Why there will be no guest figures; empty while the tool runs. */
        public Optional<String> note() {
            return Optional.ofNullable(note);
        }

        /** Waits for the tool to end and reads what it printed; empty with a {@link #note}. */
        public Optional<GuestResult> finish() {
            if (note != null) {
                return Optional.empty();
            }
            String tool = settings.toolName();
            long deadline = startedNanos + Duration.ofSeconds(seconds).plus(SLACK).toNanos();
            GuestAgent.ExecStatus status;
            while (true) {
                try {
                    status = agent.status(pid);
                } catch (AgentException e) {
                    throw failure(e, tool);
                }
                if (status.exited()) {
                    break;
                }
                if (ticker.nanoTime() > deadline) {
                    throw OrchestratorException.data(tool + " in the guest of VM " + vm + " did not finish within "
                            + (seconds + SLACK.toSeconds()) + " s (guest pid " + pid + "); is the guest overloaded or hung?");
                }
                try {
                    ticker.sleepNanos(POLL.toNanos());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw OrchestratorException.data("interrupted while " + tool + " ran in the guest of VM " + vm
                            + " (it ends by itself after " + seconds + " s)");
                }
            }
            if (status.exitCode() != 0) {
                String why = lastLine(status.err().isBlank() ? status.out() : status.err());
                throw OrchestratorException.data(tool + " failed in the guest of VM " + vm + " (exit " + status.exitCode() + ")"
                        + (why.isEmpty() ? "" : ": " + why));
            }
            List<CpuLatency> perCpu;
            try {
                perCpu = tool.equals("oslat") ? RtTestsOutput.parseOslat(status.out())
                        : RtTestsOutput.parseCyclictestHistogram(status.out(), cpus.toList());
            } catch (IllegalArgumentException e) {
                throw OrchestratorException.data(tool + " in the guest of VM " + vm + " printed something this tool cannot"
                        + " read: " + e.getMessage());
            }
            return Optional.of(new GuestResult(os.prettyName(), os.kernelRelease(),
                    new ProbeResult(tool, cpus, seconds, RtTestsProbe.display(argv), settings.policy(), perCpu)));
        }

        @Override
        public void close() {
            if (conn != null) {
                conn.close();
            }
        }
    }

    /**
     * Checks the domain, waits for its agent (up to agentWait), and starts the tool for {@code seconds}
     * on every online guest CPU.
     */
    public Session start(int seconds) {
        boolean channel;
        try {
            channel = domain.get().guestAgentChannel();
        } catch (OrchestratorException e) {
            return hostSideOnly(e);
        }
        if (!channel) {
            return hostSideOnly(OrchestratorException.data("VM " + vm + " has no guest agent channel: add "
                    + Domain.GUEST_AGENT_CHANNEL_XML + " to its <devices> ('virsh edit " + vm + "'), restart it, and"
                    + " install qemu-guest-agent in the guest"));
        }
        GuestAgentConnection conn;
        try {
            conn = connect.get();
        } catch (OrchestratorException e) {
            return hostSideOnly(e);
        }
        try {
            GuestAgent agent = new GuestAgent(conn);
            awaitAgent(agent);
            GuestAgent.OsInfo os = agent.osInfo();
            if (os.windows()) {
                conn.close();
                return new Session(null, os, CpuSet.empty(), List.of(), -1, seconds, "VM " + vm + " runs "
                        + (os.prettyName().isEmpty() ? "Windows" : os.prettyName()) + ": cyclictest and oslat run in Linux"
                        + " guests only, so these are the host-side figures only");
            }
            CpuSet cpus = agent.onlineCpus();
            if (cpus.isEmpty()) {
                throw OrchestratorException.data("the guest agent of VM " + vm + " lists no online CPU (guest-get-vcpus)");
            }
            List<String> argv = settings.tool() == ProbeTool.OSLAT
                    ? RtTestsProbe.oslatArgv("oslat", cpus, cpus.first(), seconds, settings.policy(), true, true)
                    : RtTestsProbe.cyclictestArgv("cyclictest", cpus, seconds, settings.policy());
            long pid;
            try {
                pid = agent.exec(argv.get(0), argv.subList(1, argv.size()));
            } catch (AgentException e) {
                throw failure(e, settings.toolName());
            }
            return new Session(conn, os, cpus, argv, pid, seconds, null);
        } catch (OrchestratorException e) {
            conn.close();
            return hostSideOnly(e);
        } catch (RuntimeException e) {
            conn.close();
            throw e;
        }
    }

    private void awaitAgent(GuestAgent agent) {
        long deadline = ticker.nanoTime() + settings.agentWait().toNanos();
        while (true) {
            try {
                agent.ping(GuestAgent.CALL_TIMEOUT);
                return;
            } catch (AgentException e) {
                if (e.kind() != AgentException.Kind.NOT_ANSWERING || ticker.nanoTime() >= deadline) {
                    throw failure(e, settings.toolName());
                }
            }
            try {
                ticker.sleepNanos(AGENT_RETRY.toNanos());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw OrchestratorException.data("interrupted while waiting for the guest agent of VM " + vm);
            }
        }
    }

    /** A strict measurement fails; a lenient one (the hook's) goes on host-side with the reason as a note. */
    private Session hostSideOnly(OrchestratorException e) {
        if (!settings.lenient()) {
            throw e;
        }
        return new Session(null, new GuestAgent.OsInfo("", "", ""), CpuSet.empty(), List.of(), -1, 0,
                "no figures from inside the guest: " + e.getMessage());
    }

    /** The agent's failure as the user's problem, with the fix. */
    private OrchestratorException failure(AgentException e, String tool) {
        String libvirt = " (libvirt: " + e.getMessage() + ")";
        return switch (e.kind()) {
            case NO_CHANNEL -> OrchestratorException.data("VM " + vm + " has no guest agent channel" + libvirt + ": add "
                    + Domain.GUEST_AGENT_CHANNEL_XML + " to its <devices> ('virsh edit " + vm + "'), restart it, and"
                    + " install qemu-guest-agent in the guest");
            case NOT_ANSWERING -> OrchestratorException.data("the guest agent of VM " + vm + " does not answer" + libvirt
                    + (settings.lenient() ? " within " + Durations.format(settings.agentWait()) : "")
                    + ": install qemu-guest-agent in the guest and start it (systemctl enable --now qemu-guest-agent)"
                    + (settings.lenient() ? "" : "; for a guest that is still booting, give it time with --agent-wait 2m"));
            case DISABLED -> OrchestratorException.data("the guest agent of VM " + vm + " refuses to run programs" + libvirt
                    + ": allow guest-exec in the guest's agent configuration (on Fedora and RHEL remove it from the block"
                    + " list in /etc/sysconfig/qemu-ga), then restart qemu-guest-agent");
            case GUEST_ERROR -> e.getMessage().contains("No such file") || e.getMessage().contains("Failed to execute")
                    ? OrchestratorException.data(tool + " is not installed in the guest of VM " + vm + " (" + e.getMessage()
                            + "): install rt-tests there (apt install rt-tests; on Fedora and RHEL dnf install realtime-tests)")
                    : OrchestratorException.data("the guest of VM " + vm + " could not start " + tool + ": " + e.getMessage());
            case DENIED -> OrchestratorException.data("libvirt refuses the guest agent of VM " + vm + " to us" + libvirt
                    + ": run as root");
            case NOT_RUNNING -> OrchestratorException.data("VM " + vm + " is not running" + libvirt + "; start it, then measure");
            case OTHER -> OrchestratorException.data("the guest agent of VM " + vm + ": " + e.getMessage());
        };
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
