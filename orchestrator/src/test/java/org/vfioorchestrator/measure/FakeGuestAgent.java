package org.vfioorchestrator.measure;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.libvirt.AgentException;
import org.vfioorchestrator.libvirt.GuestAgentConnection;

/**
 * A QEMU guest agent as qemu-ga 7.2 answers through libvirt: a Debian guest with one online vCPU whose
 * guest-exec runs a program that ends after {@link #pollsUntilExit} status calls, printing {@link #out}.
 * Each field changes one thing, as a broken guest would; every command sent is kept in {@link #sent}.
 */
final class FakeGuestAgent implements GuestAgentConnection {
    final List<Map<String, Object>> sent = new ArrayList<>();
    /** Pings that fail with "not connected" before the agent is up (a guest still booting). */
    int pingsBeforeUp;
    String osId = "debian";
    String prettyName = "Debian GNU/Linux 12 (bookworm)";
    String vcpus = "[{\"online\":true,\"can-offline\":false,\"logical-id\":0}]";
    /** What guest-exec fails with, as libvirt reports it; null: it starts the program. */
    AgentException execFails;
    int pollsUntilExit = 2;
    int exitCode;
    String out = "";
    String err = "";
    boolean closed;

    @Override
    public String command(String json, Duration timeout) {
        Map<String, Object> cmd;
        try {
            cmd = JSON.std.mapFrom(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        sent.add(cmd);
        return switch (cmd.get("execute").toString()) {
            case "guest-ping" -> {
                if (pingsBeforeUp > 0) {
                    pingsBeforeUp--;
                    throw new AgentException(AgentException.Kind.NOT_ANSWERING,
                            "Guest agent is not responding: QEMU guest agent is not connected");
                }
                yield "{\"return\":{}}";
            }
            case "guest-get-osinfo" -> "{\"return\":{\"name\":\"x\",\"kernel-release\":\"6.1.0-57-amd64\",\"pretty-name\":\""
                    + prettyName + "\",\"id\":\"" + osId + "\"}}";
            case "guest-get-vcpus" -> "{\"return\":" + vcpus + "}";
            case "guest-exec" -> {
                if (execFails != null) {
                    throw execFails;
                }
                yield "{\"return\":{\"pid\":275}}";
            }
            case "guest-exec-status" -> {
                if (pollsUntilExit-- > 1) {
                    yield "{\"return\":{\"exited\":false}}";
                }
                yield "{\"return\":{\"exitcode\":" + exitCode + ",\"out-data\":\"" + base64(out) + "\",\"err-data\":\""
                        + base64(err) + "\",\"exited\":true}}";
            }
            default -> throw new AgentException(AgentException.Kind.OTHER, "The command " + cmd.get("execute")
                    + " has not been found");
        };
    }

    /** The argument list of the one guest-exec sent. */
    @SuppressWarnings("unchecked")
    List<Object> execArgv() {
        for (Map<String, Object> c : sent) {
            if ("guest-exec".equals(c.get("execute"))) {
                Map<String, Object> a = (Map<String, Object>) c.get("arguments");
                List<Object> argv = new ArrayList<>();
                argv.add(a.get("path"));
                argv.addAll((List<Object>) a.get("arg"));
                return argv;
            }
        }
        throw new AssertionError("no guest-exec in " + sent);
    }

    long count(String execute) {
        return sent.stream().filter(c -> execute.equals(c.get("execute"))).count();
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        closed = true;
    }
}
