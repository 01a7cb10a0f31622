package org.vfioorchestrator.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.testing.Damage;

/**
 * The hook's StAX reader and doctor's DOM reader must agree on what a hook call checks: the same
 * name and vCPU count for every document both take, and the same message for every document the
 * StAX reader refuses. (The DOM reader refuses more: a bad {@code <vcpupin>} is doctor's business,
 * not the hook's.)
 */
class DomainFactsTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));

    @Test
    void readsTheNameAndVcpuCount() {
        DomainFacts f = DomainFacts.parse("<?xml version='1.0'?>\n<!-- from virsh -->\n<domain type='kvm'>\n"
                + "  <name> win&amp;11<![CDATA[-x]]> </name>\n  <vcpu placement='static' current='2'> 4 </vcpu>\n"
                + "  <devices><disk><target dev='vda'/><name>not this one</name></disk></devices>\n"
                + "  <name>nor a second one</name>\n</domain>\n", "libvirt");
        assertEquals(new DomainFacts("libvirt", "win&11-x", 4), f);
        assertEquals(1, DomainFacts.parse("<domain><name>tiny</name></domain>", "x").vcpus(), "no <vcpu>: one vCPU");
    }

    @Test
    void refusesWhatIsNotADomainWithItsOwnMessage() {
        assertEquals("x.xml: <domain> has no <name>", refusal("<domain><vcpu>2</vcpu></domain>"));
        assertEquals("x.xml: <vcpu>two</vcpu>: not a whole number", refusal("<domain><name>a</name><vcpu>two</vcpu></domain>"));
        assertEquals("x.xml: not a libvirt domain XML: the root element is <network>, expected <domain>",
                refusal("<network><name>a</name></network>"));
        assertEquals("x.xml line 3: malformed XML: the end-tag for element type \"vcpu\" must end with a '>' delimiter",
                refusal("<domain>\n<name>x</name>\n<vcpu>2</vcpus>\n</domain>"));
        String huge = "<domain><name>x</name>" + "<!-- -->".repeat(DomainXml.MAX_BYTES / 8) + "</domain>";
        assertEquals("x.xml: " + huge.length() + " bytes is larger than the 4194304 bytes a domain XML may have; is this the"
                + " right file?", refusal(huge));
    }

    @Test
    void agreesWithTheDomReaderOnEveryDomainXmlWeHave() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(REPO.resolve("examples"))) {
            files = s.filter(p -> p.toString().endsWith(".xml")).sorted().toList();
        }
        assertTrue(files.size() >= 5, "the examples' domain XMLs: " + files);
        for (Path file : files) {
            String xml = Files.readString(file);
            assertEquals(DomainXml.parse(xml, file.toString()).facts(), DomainFacts.parse(xml, file.toString()), file.toString());
        }
    }

    @Test
    void agreesWithTheDomReaderOnDamagedCopies() throws IOException {
        String good = Files.readString(REPO.resolve("examples/domains/win11.xml"));
        SplittableRandom random = new SplittableRandom(17);
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            String xml = Damage.of(good, random, "<>/='\"&;!?-[]x9 \n");
            String dom = outcome(() -> DomainXml.parse(xml, "d.xml").facts());
            String stax = outcome(() -> DomainFacts.parse(xml, "d.xml"));
            if (stax.startsWith("refused")) {
                refused++;
                assertEquals(dom, stax, () -> "copy " + xml);
            } else if (!dom.startsWith("refused")) {
                assertEquals(dom, stax, () -> "copy " + xml);
            }
        }
        assertTrue(refused > 1000, "most damaged copies are refused: " + refused);
    }

    private static String outcome(java.util.function.Supplier<DomainFacts> read) {
        try {
            return read.get().toString();
        } catch (OrchestratorException e) {
            return "refused: " + e.getMessage();
        }
    }

    private static String refusal(String xml) {
        String dom = assertThrows(OrchestratorException.class, () -> DomainXml.parse(xml, "x.xml")).getMessage();
        String stax = assertThrows(OrchestratorException.class, () -> DomainFacts.parse(xml, "x.xml")).getMessage();
        assertEquals(dom, stax, "both readers say the same");
        return stax;
    }
}
