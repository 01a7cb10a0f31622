package org.vfioorchestrator.libvirt;

import java.time.Duration;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.ErrorCallback;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.vfioorchestrator.OrchestratorException;

/**
 * Reads a domain's XML from libvirtd, read-only, and talks to a running domain's guest agent. For
 * commands run by hand (doctor, suggest, measure, tune) and the hook's detached measurement only:
 * a libvirt hook must never call back into libvirt (it deadlocks), so nothing under {@code hook/}
 * may use this class.
 */
public final class LibvirtClient {
    public static final String SYSTEM_URI = "qemu:///system";

    /** Kept in a field: JNA must not lose the callback to the garbage collector. */
    private static final ErrorCallback SILENT = new ErrorCallback();

    /** Opens a connection; tests substitute one that hands out doubles of libvirt-java's classes. */
    interface Connector {
        Connect open(String uri, boolean readOnly) throws LibvirtException;
    }

    private final String uri;
    private final Connector connector;

    public LibvirtClient() {
        this(SYSTEM_URI);
    }

    /** Another URI, e.g. {@code test:///default} (libvirt's built-in test driver). */
    public LibvirtClient(String uri) {
        this(uri, Connect::new);
    }

    LibvirtClient(String uri, Connector connector) {
        this.uri = uri;
        this.connector = connector;
    }

    /** The persistent-or-live XML of the domain named {@code name}, as {@code virsh dumpxml} prints it. */
    public String domainXml(String name) {
        Connect conn = open(true, ": ", "; is libvirtd (or virtqemud) running and may you read it? Or save the XML with"
                + " 'virsh dumpxml " + name + " > " + name + ".xml' and use --domain " + name + ".xml", ", or use --domain FILE");
        try {
            Domain dom = conn.domainLookupByName(name);
            return dom.getXMLDesc(0);
        } catch (LibvirtException e) {
            if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN) {
                throw OrchestratorException.data("libvirt at " + uri + " has no domain named '" + name
                        + "'; 'virsh list --all' shows the names");
            }
            throw OrchestratorException.data("libvirt at " + uri + ": cannot read the XML of '" + name + "': "
                    + firstLine(e));
        } finally {
            close(conn);
        }
    }

    /**
     * A read-write connection to {@code vm}'s guest agent (libvirt refuses agent commands on a
     * read-only one); the caller closes it.
     */
    public GuestAgentConnection guestAgent(String vm) {
        Connect conn = open(false, " read-write: ", "; the guest agent needs it: is libvirtd (or virtqemud) running,"
                + " and are you root?", "");
        Domain dom;
        try {
            dom = conn.domainLookupByName(vm);
        } catch (LibvirtException e) {
            close(conn);
            if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN) {
                throw OrchestratorException.data("libvirt at " + uri + " has no domain named '" + vm
                        + "'; 'virsh list' shows the names");
            }
            throw OrchestratorException.data("libvirt at " + uri + ": cannot find '" + vm + "': " + firstLine(e));
        }
        return new GuestAgentConnection() {
            @Override
            public String command(String json, Duration timeout) {
                try {
                    return dom.qemuAgentCommand(json, (int) Math.max(1, timeout.toSeconds()), 0);
                } catch (LibvirtException e) {
                    throw classify(e);
                } catch (NullPointerException e) {
                    // libvirt-java returns no reply (and trips over it) when it could not load libvirt-qemu.so.0
                    throw new AgentException(AgentException.Kind.OTHER, "libvirt's QEMU library (libvirt-qemu.so.0)"
                            + " could not be loaded: install libvirt0 (or libvirt-libs)");
                }
            }

            @Override
            public void close() {
                LibvirtClient.close(conn);
            }
        };
    }

    /** A connection to {@link #uri}; a failure says what libvirt said and {@code fix}, {@code noLibraryFix} what else to do. */
    private Connect open(boolean readOnly, String how, String fix, String noLibraryFix) {
        try {
            // libvirt prints every error to stderr by default; ours are reported once, by the caller
            Connect.setErrorCallback(SILENT);
            return connector.open(uri, readOnly);
        } catch (LibvirtException e) {
            throw OrchestratorException.data("cannot reach libvirt at " + uri + how + firstLine(e) + fix);
        } catch (LinkageError e) {
            throw OrchestratorException.data("cannot load libvirt's C library (libvirt.so.0): " + e.getMessage()
                    + "; install libvirt (libvirt0 / libvirt-libs)" + noLibraryFix);
        }
    }

    /** Sorts libvirt's agent errors by what the user can do; libvirt-java 0.5 knows none of their codes. */
    static AgentException classify(LibvirtException e) {
        String m = firstLine(e);
        ErrorNumber code = e.getError() == null ? null : e.getError().getCode();
        AgentException.Kind kind;
        int guest = m.indexOf("error was '");
        if (m.contains("not configured")) {
            kind = AgentException.Kind.NO_CHANNEL;
        } else if (m.contains("has been disabled")) {
            kind = AgentException.Kind.DISABLED;
        } else if (guest >= 0) {
            kind = AgentException.Kind.GUEST_ERROR;
            m = m.substring(guest + "error was '".length(), m.endsWith("'") ? m.length() - 1 : m.length());
        } else if (code == ErrorNumber.VIR_ERR_OPERATION_DENIED || m.contains("read only access") || m.contains("access denied")) {
            kind = AgentException.Kind.DENIED;
        } else if (m.contains("not responding") || m.contains("not connected") || m.contains("not available")
                || m.contains("disappeared") || m.contains("didn't respond")) {
            kind = AgentException.Kind.NOT_ANSWERING;
        } else if (m.contains("not running") || code == ErrorNumber.VIR_ERR_NO_DOMAIN) {
            kind = AgentException.Kind.NOT_RUNNING;
        } else {
            kind = AgentException.Kind.OTHER;
        }
        return new AgentException(kind, m);
    }

    private static void close(Connect conn) {
        try {
            conn.close();
        } catch (LibvirtException ignored) {
            // closing a connection has nothing to lose
        }
    }

    private static String firstLine(LibvirtException e) {
        String m = e.getError() != null && e.getError().getMessage() != null ? e.getError().getMessage() : e.getMessage();
        return m == null ? "unknown error" : m.lines().findFirst().orElse(m).strip();
    }
}
