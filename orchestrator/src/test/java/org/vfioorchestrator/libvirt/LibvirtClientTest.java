package org.vfioorchestrator.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.vfioorchestrator.OrchestratorException;

/** What doctor and suggest make of libvirt's answers, with libvirt-java's Connect and Domain as Mockito doubles. */
class LibvirtClientTest {
    static final String URI = "qemu:///system";

    final Connect conn = mock(Connect.class);

    LibvirtClient client() {
        return new LibvirtClient(URI, (uri, readOnly) -> {
            assertEquals(URI, uri);
            assertEquals(true, readOnly, "doctor and suggest only read");
            return conn;
        });
    }

    static LibvirtException failure(ErrorNumber code, String message) {
        Error error = mock(Error.class);
        when(error.getCode()).thenReturn(code);
        when(error.getMessage()).thenReturn(message);
        LibvirtException e = mock(LibvirtException.class);
        when(e.getError()).thenReturn(error);
        return e;
    }

    @Test
    void theDomainsXmlIsReadAndTheConnectionClosed() throws Exception {
        Domain dom = mock(Domain.class);
        when(conn.domainLookupByName("win11")).thenReturn(dom);
        when(dom.getXMLDesc(0)).thenReturn("<domain type='kvm'><name>win11</name></domain>");
        assertEquals("<domain type='kvm'><name>win11</name></domain>", client().domainXml("win11"));
        verify(conn).close();
    }

    @Test
    void anUnknownDomainNamesVirshListAndStillClosesTheConnection() throws Exception {
        LibvirtException noDomain = failure(ErrorNumber.VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching name 'w11'");
        when(conn.domainLookupByName("w11")).thenThrow(noDomain);
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> client().domainXml("w11"));
        assertEquals("libvirt at qemu:///system has no domain named 'w11'; 'virsh list --all' shows the names", e.getMessage());
        verify(conn).close();
    }

    @Test
    void anotherFailureShowsLibvirtsFirstLine() throws Exception {
        Domain dom = mock(Domain.class);
        when(conn.domainLookupByName("win11")).thenReturn(dom);
        LibvirtException denied = failure(ErrorNumber.VIR_ERR_OPERATION_DENIED,
                "operation forbidden: read only access prevents virDomainGetXMLDesc\nsecond line");
        when(dom.getXMLDesc(0)).thenThrow(denied);
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> client().domainXml("win11"));
        assertEquals("libvirt at qemu:///system: cannot read the XML of 'win11': operation forbidden: read only access"
                + " prevents virDomainGetXMLDesc", e.getMessage());
        verify(conn).close();
    }

    @Test
    void anUnreachableDaemonSuggestsDumpingTheXmlToAFile() {
        LibvirtException refused = failure(ErrorNumber.VIR_ERR_SYSTEM_ERROR,
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory");
        LibvirtClient client = new LibvirtClient(URI, (uri, readOnly) -> {
            throw refused;
        });
        OrchestratorException e = assertThrows(OrchestratorException.class, () -> client.domainXml("win11"));
        assertEquals("cannot reach libvirt at qemu:///system: Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro':"
                + " No such file or directory; is libvirtd (or virtqemud) running and may you read it? Or save the XML with"
                + " 'virsh dumpxml win11 > win11.xml' and use --domain win11.xml", e.getMessage());
    }

    /** The guest agent needs a read-write connection; each command goes with its timeout in seconds. */
    @Test
    void theGuestAgentIsAskedOverAReadWriteConnectionThatCloseCloses() throws Exception {
        Domain dom = mock(Domain.class);
        when(conn.domainLookupByName("lab")).thenReturn(dom);
        when(dom.qemuAgentCommand("{\"execute\":\"guest-ping\"}", 10, 0)).thenReturn("{\"return\":{}}");
        LibvirtClient client = new LibvirtClient(URI, (uri, readOnly) -> {
            assertEquals(false, readOnly, "libvirt refuses agent commands on a read-only connection");
            return conn;
        });
        try (GuestAgentConnection agent = client.guestAgent("lab")) {
            assertEquals("{\"return\":{}}", agent.command("{\"execute\":\"guest-ping\"}", java.time.Duration.ofSeconds(10)));
        }
        verify(conn).close();
    }

    /** libvirt 9.0's messages (libvirt-java 0.5 maps none of the agent error codes), each to what the user can do. */
    @Test
    void libvirtsAgentErrorsAreSortedByWhatTheUserCanDo() {
        assertKind(AgentException.Kind.NOT_ANSWERING, "Guest agent is not responding: QEMU guest agent is not connected",
                ErrorNumber.VIR_ERR_UNKNOWN, "Guest agent is not responding: QEMU guest agent is not connected");
        assertKind(AgentException.Kind.NOT_ANSWERING, "Guest agent is not responding: Guest agent not available for now",
                ErrorNumber.VIR_ERR_UNKNOWN, "Guest agent is not responding: Guest agent not available for now");
        assertKind(AgentException.Kind.NO_CHANNEL, "argument unsupported: QEMU guest agent is not configured",
                ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: QEMU guest agent is not configured");
        assertKind(AgentException.Kind.GUEST_ERROR, "Failed to execute child process “rt” (No such file or directory)",
                ErrorNumber.VIR_ERR_INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'guest-exec': Guest"
                        + " agent command failed, error was 'Failed to execute child process “rt” (No such file or directory)'");
        assertKind(AgentException.Kind.DISABLED, "internal error: unable to execute QEMU agent command 'guest-exec': The"
                + " command guest-exec has been disabled for this instance", ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                "internal error: unable to execute QEMU agent command 'guest-exec': The command guest-exec has been disabled"
                        + " for this instance");
        assertKind(AgentException.Kind.DENIED, "operation forbidden: read only access prevents virDomainQemuAgentCommand",
                ErrorNumber.VIR_ERR_OPERATION_DENIED, "operation forbidden: read only access prevents virDomainQemuAgentCommand");
        assertKind(AgentException.Kind.NOT_RUNNING, "Requested operation is not valid: domain is not running",
                ErrorNumber.VIR_ERR_OPERATION_INVALID, "Requested operation is not valid: domain is not running");
        assertKind(AgentException.Kind.OTHER, "internal error: something new", ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                "internal error: something new\nsecond line");
    }

    static void assertKind(AgentException.Kind kind, String message, ErrorNumber code, String libvirtMessage) {
        AgentException e = LibvirtClient.classify(failure(code, libvirtMessage));
        assertEquals(kind, e.kind(), libvirtMessage);
        assertEquals(message, e.getMessage());
    }
}
