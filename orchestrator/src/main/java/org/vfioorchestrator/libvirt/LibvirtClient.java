package org.vfioorchestrator.libvirt;

import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.ErrorCallback;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.vfioorchestrator.OrchestratorException;

/**
 * Reads a domain's XML from libvirtd, read-only. For doctor and suggest run by
 * hand only: a libvirt hook must never call back into libvirt (it deadlocks), so
 * nothing under {@code hook/} may use this class.
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
        Connect conn;
        try {
            // libvirt prints every error to stderr by default; ours are reported once, below
            Connect.setErrorCallback(SILENT);
            conn = connector.open(uri, true);
        } catch (LibvirtException e) {
            throw OrchestratorException.data("cannot reach libvirt at " + uri + ": " + firstLine(e)
                    + "; is libvirtd (or virtqemud) running and may you read it? Or save the XML with"
                    + " 'virsh dumpxml " + name + " > " + name + ".xml' and use --domain " + name + ".xml");
        } catch (LinkageError e) {
            throw OrchestratorException.data("cannot load libvirt's C library (libvirt.so.0): " + e.getMessage()
                    + "; install libvirt (libvirt0 / libvirt-libs), or use --domain FILE");
        }
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
            try {
                conn.close();
            } catch (LibvirtException ignored) {
                // closing a read-only connection has nothing to lose
            }
        }
    }

    private static String firstLine(LibvirtException e) {
        String m = e.getError() != null && e.getError().getMessage() != null ? e.getError().getMessage() : e.getMessage();
        return m == null ? "unknown error" : m.lines().findFirst().orElse(m).strip();
    }
}
