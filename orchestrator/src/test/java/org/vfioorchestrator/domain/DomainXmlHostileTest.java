package org.vfioorchestrator.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.function.ThrowingSupplier;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.testing.Tally;

/**
 * XXE must be impossible, and not just "the entity came out empty": the
 * secret is a FIFO with a writer waiting on it, so the moment anything opens
 * it the writer wakes and the test knows. Every payload that could name a file
 * (general and parameter entities, an external DTD, XInclude, a schema
 * location, a stylesheet PI) points at it; none may open it, neither through
 * the DOM doctor reads with nor through the StAX the hook reads with.
 */
class DomainXmlHostileTest {
    static final Tally TALLY = new Tally("DomainXmlHostileTest");
    private static final String DOCTYPE = "a DOCTYPE is not allowed in a domain XML (libvirt never writes one, and it can"
            + " smuggle in entities); remove it";

    @TempDir
    Path dir;
    private Path secret;
    private final AtomicBoolean opened = new AtomicBoolean();
    private Thread writer;

    @BeforeEach
    void secretBehindAFifo() throws Exception {
        secret = dir.resolve("secret");
        Process p = new ProcessBuilder("mkfifo", secret.toString()).start();
        assertEquals(0, p.waitFor(), "mkfifo");
        writer = new Thread(() -> {
            try (OutputStream out = Files.newOutputStream(secret)) { // blocks until someone opens it to read
                opened.set(true);
                out.write("TOP-SECRET\n".getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the reader went away
            }
        }, "secret-fifo-writer");
        writer.setDaemon(true);
        writer.start();
    }

    @AfterEach
    void releaseTheWriter() throws Exception {
        boolean wasOpened = opened.get();
        try (InputStream in = Files.newInputStream(secret)) { // our own read, to let the writer finish
            in.readAllBytes();
        }
        writer.join(5000);
        TALLY.add("bad inputs");
        if (wasOpened) {
            TALLY.add("state lost");
        }
        assertFalse(wasOpened, "the parser opened the secret file");
    }

    @AfterAll
    static void report() {
        TALLY.print();
    }

    static Stream<Arguments> payloads() {
        return Stream.of(
                Arguments.of("general entity", "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file://SECRET\">]>\n"
                        + "<domain><name>&x;</name></domain>", "x.xml line 1: " + DOCTYPE),
                Arguments.of("parameter entity", "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY % p SYSTEM \"file://SECRET\">"
                        + " %p;]>\n<domain><name>tiny</name></domain>", "x.xml line 2: " + DOCTYPE),
                Arguments.of("external DTD", "<!DOCTYPE domain SYSTEM \"file://SECRET\"><domain><name>tiny</name></domain>",
                        "x.xml line 1: " + DOCTYPE),
                Arguments.of("public DTD", "<!DOCTYPE domain PUBLIC \"-//x//y\" \"file://SECRET\"><domain><name>tiny</name></domain>",
                        "x.xml line 1: " + DOCTYPE),
                Arguments.of("entity in an attribute", "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file://SECRET\">]>"
                        + "<domain type='&x;'><name>tiny</name></domain>", "x.xml line 1: " + DOCTYPE),
                Arguments.of("billion laughs", "<!DOCTYPE d [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                        + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
                        + "<domain><name>&d;</name></domain>", "x.xml line 1: " + DOCTYPE),
                Arguments.of("undeclared entity", "<domain><name>&x;</name></domain>",
                        "x.xml line 1: malformed XML: the entity \"x\" was referenced, but not declared"),
                Arguments.of("XInclude", "<domain xmlns:xi='http://www.w3.org/2001/XInclude'><name>tiny</name>"
                        + "<xi:include href='file://SECRET' parse='text'/></domain>", null),
                Arguments.of("schema location", "<domain xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'"
                        + " xsi:noNamespaceSchemaLocation='file://SECRET'><name>tiny</name></domain>", null),
                Arguments.of("stylesheet", "<?xml-stylesheet type='text/xsl' href='file://SECRET'?><domain><name>tiny</name></domain>",
                        null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void nothingInTheXmlMakesTheParserOpenAFile(String name, String xml, String refusal) {
        String payload = xml.replace("SECRET", secret.toString());
        assertReadOrRefused(refusal, () -> DomainXml.parse(payload, "x.xml").name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void norTheReaderOfTheHook(String name, String xml, String refusal) {
        String payload = xml.replace("SECRET", secret.toString());
        assertReadOrRefused(refusal, () -> DomainFacts.parse(payload, "x.xml").name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void norThroughAFile(String name, String xml, String refusal) throws IOException {
        Path file = dir.resolve("domain.xml");
        Files.writeString(file, xml.replace("SECRET", secret.toString()));
        assertReadOrRefused(refusal == null ? null : refusal.replace("x.xml", file.toString()), () -> DomainXml.read(file).name());
    }

    /** Harmless markup is ignored (the domain is read); the rest is refused with {@code refusal}; nothing hangs. */
    private static void assertReadOrRefused(String refusal, ThrowingSupplier<String> domainName) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            if (refusal == null) {
                assertEquals("tiny", domainName.get());
            } else {
                assertEquals(refusal, assertThrows(OrchestratorException.class, domainName::get).getMessage());
            }
        });
    }
}
