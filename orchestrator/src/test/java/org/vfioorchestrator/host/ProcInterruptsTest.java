package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.vfioorchestrator.testing.HostSpec;
import org.vfioorchestrator.testing.HostTreeGenerator;

/**
 * The one /proc/interrupts reader gives what splitting each line at whitespace gave: the plan's
 * chip and actions of each IRQ, and the sampler's counts per CPU.
 */
class ProcInterruptsTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root"));

    /** The reader as it was (whole text, regex split), kept as the reference. */
    private static Map<Integer, List<String>> reference(String text) {
        Map<Integer, List<String>> out = new TreeMap<>();
        String[] lines = text.split("\n");
        if (lines.length == 0) {
            return out;
        }
        int cpus = lines[0].trim().isEmpty() ? 0 : lines[0].trim().split("\\s+").length;
        for (int i = 1; i < lines.length; i++) {
            String[] tok = lines[i].trim().split("\\s+");
            if (tok.length == 0 || !tok[0].endsWith(":")) {
                continue;
            }
            String num = tok[0].substring(0, tok[0].length() - 1);
            if (num.isEmpty() || !num.chars().allMatch(Character::isDigit)) {
                continue;
            }
            int rest = 1 + cpus;
            String chip = rest < tok.length ? tok[rest] : "";
            String actions = rest + 2 < tok.length ? String.join(" ", List.of(tok).subList(rest + 2, tok.length)) : "";
            out.put(Integer.parseInt(num), List.of(chip, actions));
        }
        return out;
    }

    private static Map<Integer, List<String>> streamed(String text) throws IOException {
        return described(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** What the plan keeps: IRQ number -> [chip, actions]. */
    private static Map<Integer, List<String>> described(java.io.InputStream in) throws IOException {
        Map<Integer, List<String>> out = new TreeMap<>();
        for (ProcInterrupts.Row row : ProcInterrupts.read(in, false).rows()) {
            if (row.irq() >= 0) {
                out.put(row.irq(), List.of(row.chip(), row.actions()));
            }
        }
        return out;
    }

    private static void same(String text) throws IOException {
        assertEquals(reference(text), streamed(text), text.length() > 300 ? text.substring(0, 300) : text);
    }

    @Test
    void bundledExampleAndGeneratedHosts() throws IOException {
        String rig = Files.readString(REPO.resolve("examples/hosts/gaming-rig/proc/interrupts"));
        assertEquals(60, streamed(rig).size());
        assertEquals(List.of("IR-PCI-MSIX-0000:0b:00.0", "vfio-msix[0](0000:0b:00.0)"),
                streamed(rig).values().stream().filter(d -> d.get(1).startsWith("vfio-msix[0]")).findFirst().orElseThrow());
        same(rig);
        // 256 CPUs: rows of 2.8 kB, wider than the first read buffer
        same(new String(HostTreeGenerator.render(HostSpec.builder().cpus(256).cpusPerL3(16).numaNodes(2).packages(2)
                .irqs(300).processes(1).build()).get("proc/interrupts"), StandardCharsets.UTF_8));
    }

    @Test
    void rowsLongerThanTheBufferAndStreamsThatTrickle() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int cpu = 0; cpu < 7000; cpu++) {
            sb.append("       CPU").append(cpu);
        }
        sb.append('\n');
        for (int irq = 0; irq < 3; irq++) {
            sb.append(' ').append(irq).append(':');
            for (int cpu = 0; cpu < 7000; cpu++) {
                sb.append(' ').append(cpu % 97 * 1000);
            }
            sb.append("  PCI-MSI  ").append(irq).append("-edge      dev").append(irq).append('\n');
        }
        String text = sb.toString();
        same(text);
        assertEquals(List.of("PCI-MSI", "dev2"), streamed(text).get(2));
        // a stream that hands out 1 to 7 bytes per read
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        java.io.InputStream trickle = new java.io.InputStream() {
            int at;

            @Override
            public int read() {
                return at < bytes.length ? bytes[at++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (at >= bytes.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, 1 + at % 7), bytes.length - at);
                System.arraycopy(bytes, at, b, off, n);
                at += n;
                return n;
            }
        };
        assertEquals(reference(text), described(trickle));
    }

    /**
     * The counts the kernel prints are passed over by their width, whichever of its two layouts:
     * ": %10u %10u " (before 6.x) and ": %10u %10u" with the space first (seq_put_decimal_ull_width);
     * rows that only start like them (a count wider than 10 places, a row cut short) are split.
     */
    @Test
    void kernelLayoutsAndRowsThatOnlyStartLikeThem() throws IOException {
        String header = "           CPU0       CPU1       CPU2\n";
        String old = String.format("%3d: %10d %10d %10d   IO-APIC    2-edge      timer\n", 0, 5, 4294967295L, 0);
        String now = String.format("%3d:%10d %10d %10d  PCI-MSI 524288-edge      nvme0q0\n", 1, 0, 12, 7);
        same(header + old + now);
        assertEquals(List.of("IO-APIC", "timer"), streamed(header + old + now).get(0));
        assertEquals(List.of("PCI-MSI", "nvme0q0"), streamed(header + old + now).get(1));
        same(header + "  2: 12345678901          1          2   IO-APIC   9-fasteoi   acpi\n"); // 11 places
        same(header + "  3:          1          2 12345678901   IO-APIC   9-fasteoi   acpi\n");
        same(header + "  4:          1          2          3\n"); // nothing after the counts
        same(header + "  5:          1          2\n");
        same(header + "  6:          1          2          3x  chip hw act\n");
        same(header + "  7:\t         1          2          3 chip hw act\n");
    }

    @Test
    void oddRows() throws IOException {
        same("");
        same("\n");
        same("           CPU0       CPU1\n");
        same("           CPU0       CPU1");
        same("           CPU0       CPU1\n  0:          5          0   IO-APIC    2-edge      timer\n");
        same("           CPU0       CPU1\n  0:          5          0   IO-APIC    2-edge      timer");
        same("\tCPU0\tCPU1 \n 12:\t1\t2\tchip\t7-edge\t  a  b\t c \r\n");
        same("           CPU0       CPU1\n 45:          1          2  PCI-MSI  524288-edge  \u00e4ction name, other\n");
        same("           CPU0       CPU1\n 46:          1\n 47:          1 2\n 48: 1 2 chip\n 49: 1 2 chip hw\n");
        same("           CPU0       CPU1\nNMI:          1          2   Non-maskable interrupts\nERR:          0\n"
                + ":  1 2 x y z\n4a: 1 2 x y z\n 50 1 2 x y z\n  \n 51: 1 2 c h act\n");
    }

    /** With counts: every row with a number per column, by the header's CPU ids (online CPUs only, so with gaps). */
    @Test
    void countsPerColumnAndRowsWithoutThem() throws IOException {
        String text = "           CPU0       CPU2       CPU3\n"
                + "  0:         12          0 4294967295   IO-APIC   2-edge      timer\n"
                + " 45:          1          2          3  IR-PCI-MSIX-0000:01:00.0  3-edge  nvme0q3\n"
                + "LOC:        100        200        300   Local timer interrupts\n"
                + "ERR:          0\n"
                + "MIS:          0\n";
        ProcInterrupts.Table t = ProcInterrupts.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), true);
        assertEquals(List.of(0, 2, 3), t.cpus());
        assertEquals(List.of("0", "45", "LOC"), t.rows().stream().map(ProcInterrupts.Row::id).toList(),
                "ERR and MIS carry one total, not a count per CPU");
        assertEquals(List.of(12L, 0L, 4294967295L), Arrays.stream(t.rows().get(0).counts()).boxed().toList());
        assertEquals("nvme0q3", t.rows().get(1).actions());
        assertEquals(-1, t.rows().get(2).irq());
        assertEquals("Local timer interrupts", t.rows().get(2).description());
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ProcInterrupts.read(new ByteArrayInputStream("  CPU0  cpu1\n".getBytes(StandardCharsets.UTF_8)), true));
        assertEquals("header column 'cpu1' is not CPUn", bad.getMessage());
    }

    /** The sampler and the plan read the same rows of a real layout alike. */
    @Test
    void countsAndDescriptionsAgreeOnTheExample() throws IOException {
        byte[] rig = Files.readAllBytes(REPO.resolve("examples/hosts/gaming-rig/proc/interrupts"));
        Map<Integer, List<String>> withCounts = new TreeMap<>();
        for (ProcInterrupts.Row row : ProcInterrupts.read(new ByteArrayInputStream(rig), true).rows()) {
            assertEquals(32, row.counts().length);
            if (row.irq() >= 0) {
                withCounts.put(row.irq(), List.of(row.chip(), row.actions()));
            }
        }
        assertEquals(described(new ByteArrayInputStream(rig)), withCounts);
    }
}
