package org.vfioorchestrator.libvirt;

/**
 * A guest agent command that did not get an answer, sorted by what the user can do about it. The
 * message is libvirt's (or the guest's, for {@link Kind#GUEST_ERROR}), first line only.
 */
public final class AgentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** The domain has no agent channel ({@code <channel>} with target org.qemu.guest_agent.0). */
        NO_CHANNEL,
        /** Nothing answers on the channel: no qemu-guest-agent in the guest, not started yet, or hung. */
        NOT_ANSWERING,
        /** The agent refuses the command: it is blocked in the guest's agent configuration. */
        DISABLED,
        /** The agent ran the command and the guest reports an error (e.g. no such program). */
        GUEST_ERROR,
        /** libvirt refuses us: a read-only or unprivileged connection. */
        DENIED,
        /** The domain is not running (or no longer). */
        NOT_RUNNING,
        /** Anything else libvirt reports. */
        OTHER
    }

    private final Kind kind;

    public AgentException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
