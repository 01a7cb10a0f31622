package org.vfioorchestrator.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class KernelReleaseTest {
    @Test
    void aDistributionsReleaseGivesItsMajorAndMinor() {
        assertEquals(Optional.of(new KernelRelease("6.12.95+deb12-amd64", 6, 12)), KernelRelease.parse("6.12.95+deb12-amd64\n"));
        assertEquals(Optional.of(new KernelRelease("5.10.0-28-amd64", 5, 10)), KernelRelease.parse("5.10.0-28-amd64"));
        assertEquals(Optional.of(new KernelRelease("6.9.7-arch1-1", 6, 9)), KernelRelease.parse("6.9.7-arch1-1"));
        assertEquals(Optional.of(new KernelRelease("7-rc1", 7, 0)), KernelRelease.parse("7-rc1"));
    }

    @Test
    void textWithoutALeadingVersionGivesNone() {
        for (String bad : new String[] {"", "\n", "linux-6.1", "6.x", ".1", "99999999999.1", "6.99999999999"}) {
            assertEquals(Optional.empty(), KernelRelease.parse(bad), bad);
        }
    }

    @Test
    void atLeastComparesMajorThenMinor() {
        KernelRelease k = KernelRelease.parse("5.10.0-28-amd64").orElseThrow();
        assertTrue(k.atLeast(5, 0));
        assertTrue(k.atLeast(5, 10));
        assertFalse(k.atLeast(5, 11));
        assertFalse(k.atLeast(6, 1));
        assertTrue(k.atLeast(4, 19));
    }
}
