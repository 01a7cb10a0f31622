package org.vfioorchestrator.libvirt;

import java.time.Duration;

/**
 * One running domain's QEMU guest agent, reached through libvirt ({@code virDomainQemuAgentCommand}).
 * For {@code measure --in-guest} and {@code tune}, run by hand or detached: never from the hook, which
 * must not call back into libvirt.
 */
public interface GuestAgentConnection extends AutoCloseable {
    /**
     * Sends one agent command ({@code {"execute": ..., "arguments": ...}}) and returns the agent's JSON
     * reply. A failure is an {@link AgentException} saying what kind it is.
     */
    String command(String json, Duration timeout);

    @Override
    void close();
}
