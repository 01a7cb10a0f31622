package org.vfioorchestrator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CpuSetTest {

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 32, 33, 64, 1024, 8192})
    void allCpusRoundTripThroughListAndMask(int n) {
        CpuSet all = CpuSet.range(0, n - 1);
        assertEquals(n == 1 ? "0" : "0-" + (n - 1), all.toString());
        assertEquals(all, CpuSet.parseList(all.toString()));
        String mask = all.toMask(n);
        assertEquals((n + 31) / 32, mask.split(",").length);
        assertEquals(all, CpuSet.parseMask(mask));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "1;        1",
        "32;       ffffffff",
        "33;       1,ffffffff",
        "36;       f,ffffffff",
        "64;       ffffffff,ffffffff"})
    void masksUseKernelGroupWidths(int n, String expected) {
        assertEquals(expected, CpuSet.range(0, n - 1).toMask(n));
    }

    @Test
    void sparseSetsRoundTrip() {
        CpuSet s = CpuSet.parseList("0-3,8,10-11,1023\n");
        assertEquals("0-3,8,10-11,1023", s.toString());
        assertEquals(s, CpuSet.parseMask(s.toMask(1024)));
        assertEquals("00000d0f", CpuSet.parseList("0-3,8,10-11").toMask(32));
        assertEquals(CpuSet.of(0, 33), CpuSet.parseMask("00000002,00000001"));
    }

    @Test
    void widthOfMaskKeepsLeadingZeroGroups() {
        assertEquals("00000000,00000001", CpuSet.of(0).toMask(64));
        assertEquals(CpuSet.of(0), CpuSet.parseMask("00000000,00000001"));
    }

    @Test
    void strideFormIsTheKernelsOwn() {
        assertEquals("0-1,8-9", CpuSet.parseList("0-15:2/8").toString());
    }

    @Test
    void emptyListIsEmptySetButEmptyMaskIsAnError() {
        assertTrue(CpuSet.parseList("\n").isEmpty());
        assertThrows(CpuSetFormatException.class, () -> CpuSet.parseMask(""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "3-1      | '3-1': range is reversed, write 1-3",
        "0,,2     | '0,,2': empty entry between commas",
        "0-3,x    | 'x': not a CPU number or range",
        "-1       | '-1': CPU numbers are never negative; the first CPU is 0",
        "-        | '-': missing CPU number",
        "1-       | '1-': missing CPU number",
        "16384    | '16384': CPU number out of range 0-16383",
        "99999999 | '99999999': CPU number out of range 0-16383",
        "0 1      | '0 1': not a CPU number or range",
        "0x3      | '0x3': not a CPU number or range",
        "0-7:3/2  | '0-7:3/2': stride needs 0 < used <= group"})
    void malformedListsNameTheBadToken(String input, String message) {
        CpuSetFormatException e = assertThrows(CpuSetFormatException.class, () -> CpuSet.parseList(input));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ff,fff       | 'fff': each group after the first must be 8 hex digits",
        "fg           | 'fg': not a hex digit: 'g'",
        "123456789    | '123456789': each group after the first must be 8 hex digits",
        "ff,          | '': each group after the first must be 8 hex digits"})
    void malformedMasksNameTheBadGroup(String input, String message) {
        CpuSetFormatException e = assertThrows(CpuSetFormatException.class, () -> CpuSet.parseMask(input));
        assertEquals(message, e.getMessage());
    }

    @Test
    void maskWiderThan16384CpusIsRefused() {
        String tooWide = "1" + ",00000000".repeat(512);
        assertThrows(CpuSetFormatException.class, () -> CpuSet.parseMask(tooWide));
    }

    @Test
    void setAlgebra() {
        CpuSet a = CpuSet.parseList("0-7");
        CpuSet b = CpuSet.parseList("4-11");
        assertEquals("0-11", a.union(b).toString());
        assertEquals("4-7", a.intersection(b).toString());
        assertEquals("0-3", a.difference(b).toString());
        assertTrue(CpuSet.parseList("5-6").isSubsetOf(a));
        assertFalse(b.isSubsetOf(a));
        assertTrue(a.intersects(b));
        assertEquals(8, a.size());
        assertEquals(0, a.first());
        assertEquals(7, a.last());
    }

    @Test
    void equalityIsBySetNotByString() {
        assertEquals(CpuSet.parseList("0,1,2,3"), CpuSet.parseList("0-3"));
        assertEquals(CpuSet.parseList("0-3"), CpuSet.parseMask("0000000f"));
    }
}
