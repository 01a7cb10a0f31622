package org.vfioorchestrator.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/** A man page as the build compresses it for Debian (policy 12.1: gzip -9n), read as man reads it. */
public final class GzippedManPage {
    private GzippedManPage() {
    }

    /** The page's troff text, once its gzip header is checked to be gzip -9n's. */
    public static String text(String name, byte[] gz) {
        assertEquals(0x1f, gz[0] & 0xff, name + ": gzip magic");
        assertEquals(0x8b, gz[1] & 0xff, name + ": gzip magic");
        assertEquals(0, gz[3], name + ": no file name or other optional header field (-n)");
        assertArrayEquals(new byte[4], Arrays.copyOfRange(gz, 4, 8), name + ": no time stamp (-n), so every build gives the same bytes");
        assertEquals(2, gz[8], name + ": maximum compression (-9)");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": not gzip", e);
        }
    }
}
