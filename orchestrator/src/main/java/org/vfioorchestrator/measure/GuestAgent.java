package org.vfioorchestrator.measure;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.cpu.CpuSet;
import org.vfioorchestrator.libvirt.AgentException;
import org.vfioorchestrator.libvirt.GuestAgentConnection;

/**
 * The QEMU guest agent commands this tool sends (guest-ping, guest-get-osinfo, guest-get-vcpus,
 * guest-exec, guest-exec-status), as JSON through jackson-jr. A reply that is not what the agent's
 * schema says is an {@link AgentException} of kind OTHER naming the command.
 */
public final class GuestAgent {
    /** How long one command may take; guest-exec returns at once, the program runs on in the guest. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private final GuestAgentConnection conn;

    public GuestAgent(GuestAgentConnection conn) {
        this.conn = conn;
    }

    /** Answers when the agent is up; an AgentException (NOT_ANSWERING while the guest boots) otherwise. */
    public void ping(Duration timeout) {
        conn.command(command("guest-ping", Map.of()), timeout);
    }

    /**
     * What the guest runs. {@code id} is os-release's ID ("debian", "fedora"), "mswindows" on Windows,
     * empty when the agent is too old to say (before QEMU 2.10).
     */
    public record OsInfo(String id, String prettyName, String kernelRelease) {
        public boolean windows() {
            return id.equals("mswindows");
        }
    }

    public OsInfo osInfo() {
        Map<String, Object> r;
        try {
            r = object(call("guest-get-osinfo", Map.of()), "guest-get-osinfo");
        } catch (AgentException e) {
            if (e.kind() == AgentException.Kind.GUEST_ERROR || e.kind() == AgentException.Kind.OTHER) {
                return new OsInfo("", "", ""); // an agent without the command; exec will tell the rest
            }
            throw e;
        }
        return new OsInfo(text(r.get("id")), text(r.get("pretty-name")), text(r.get("kernel-release")));
    }

    /** The guest's online CPUs, by its own numbers. */
    public CpuSet onlineCpus() {
        Object r = call("guest-get-vcpus", Map.of());
        if (!(r instanceof List<?> list)) {
            throw bad("guest-get-vcpus", "a list");
        }
        CpuSet cpus = CpuSet.empty();
        for (Object o : list) {
            Map<String, Object> v = object(o, "guest-get-vcpus");
            if (Boolean.TRUE.equals(v.get("online"))) {
                cpus = cpus.union(CpuSet.of(number(v.get("logical-id"), "guest-get-vcpus").intValue()));
            }
        }
        return cpus;
    }

    /** Starts a program in the guest (found on the agent's PATH), its output captured; returns its pid there. */
    public long exec(String program, List<String> args) {
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("path", program);
        arguments.put("arg", args);
        arguments.put("capture-output", true);
        return number(object(call("guest-exec", arguments), "guest-exec").get("pid"), "guest-exec").longValue();
    }

    /** A program started with {@link #exec}: still running, or its exit code and output (decoded). */
    public record ExecStatus(boolean exited, int exitCode, String out, String err) {
    }

    public ExecStatus status(long pid) {
        Map<String, Object> r = object(call("guest-exec-status", Map.of("pid", pid)), "guest-exec-status");
        if (!Boolean.TRUE.equals(r.get("exited"))) {
            return new ExecStatus(false, -1, "", "");
        }
        // a program killed by a signal has "signal" and no "exitcode"
        int code = r.get("exitcode") != null ? number(r.get("exitcode"), "guest-exec-status").intValue()
                : 128 + (r.get("signal") == null ? 0 : number(r.get("signal"), "guest-exec-status").intValue());
        return new ExecStatus(true, code, decode(r.get("out-data")), decode(r.get("err-data")));
    }

    private Object call(String name, Map<String, Object> arguments) {
        String reply = conn.command(command(name, arguments), CALL_TIMEOUT);
        Map<String, Object> m;
        try {
            m = JSON.std.mapFrom(reply);
        } catch (IOException e) {
            throw bad(name, "JSON");
        }
        if (!m.containsKey("return")) {
            throw bad(name, "an object with \"return\"");
        }
        return m.get("return");
    }

    static String command(String name, Map<String, Object> arguments) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("execute", name);
        if (!arguments.isEmpty()) {
            m.put("arguments", arguments);
        }
        try {
            return JSON.std.asString(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String decode(Object base64) {
        if (base64 == null) {
            return "";
        }
        try {
            return new String(Base64.getDecoder().decode(base64.toString()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw bad("guest-exec-status", "base64 output");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String command) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw bad(command, "an object");
    }

    private static Number number(Object o, String command) {
        if (o instanceof Number n) {
            return n;
        }
        throw bad(command, "a number where one belongs");
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }

    private static AgentException bad(String command, String expected) {
        return new AgentException(AgentException.Kind.OTHER, "the guest agent's reply to " + command + " is not " + expected);
    }
}
