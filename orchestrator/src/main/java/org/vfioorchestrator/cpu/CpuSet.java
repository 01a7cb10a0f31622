package org.vfioorchestrator.cpu;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.IntStream;

/**
 * An immutable set of CPU ids, in the two notations the kernel uses: lists
 * ({@code 0-3,8,10-11}) and hex masks in 32-bit comma groups ({@code ff,ffffffff}).
 * Always compare CPU sets as sets, never as the strings the kernel printed.
 */
public final class CpuSet implements Comparable<CpuSet> {
    /**
     * CPU ids go up to this one less: libvirt's limit for a domain's CPU lists (16384), above the
     * kernel's NR_CPUS ceiling (CONFIG_NR_CPUS max 8192), so every host's ids fit and a domain's pin
     * beyond them is read as a pin to CPUs the host does not have.
     */
    public static final int MAX_CPUS = 16384;

    private static final CpuSet EMPTY = new CpuSet(new BitSet());
    private final BitSet bits;

    private CpuSet(BitSet bits) {
        this.bits = bits;
    }

    public static CpuSet empty() {
        return EMPTY;
    }

    public static CpuSet of(int... cpus) {
        BitSet b = new BitSet();
        for (int cpu : cpus) {
            b.set(checkId(cpu, Integer.toString(cpu)));
        }
        return new CpuSet(b);
    }

    public static CpuSet of(Iterable<Integer> cpus) {
        BitSet b = new BitSet();
        for (int cpu : cpus) {
            b.set(checkId(cpu, Integer.toString(cpu)));
        }
        return new CpuSet(b);
    }

    /** All CPUs from {@code first} to {@code last}, inclusive. */
    public static CpuSet range(int first, int last) {
        if (last < first) {
            throw new CpuSetFormatException(first + "-" + last, "range is reversed, write " + last + "-" + first);
        }
        checkId(last, Integer.toString(last));
        BitSet b = new BitSet();
        b.set(checkId(first, Integer.toString(first)), last + 1);
        return new CpuSet(b);
    }

    /**
     * Parses the kernel's list format: comma-separated ids and ranges, also
     * the stride form {@code 0-31:2/8} (first 2 of every 8). Surrounding
     * whitespace and a trailing newline are tolerated; an empty string is the
     * empty set. Anything else is an error that names the bad token.
     */
    public static CpuSet parseList(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            return EMPTY;
        }
        BitSet b = new BitSet();
        for (String token : s.split(",", -1)) {
            if (token.isEmpty()) {
                throw new CpuSetFormatException(s, "empty entry between commas");
            }
            parseListToken(token, b);
        }
        return new CpuSet(b);
    }

    private static void parseListToken(String token, BitSet into) {
        String rangePart = token;
        int used = 1;
        int group = 1;
        int colon = token.indexOf(':');
        if (colon >= 0) {
            rangePart = token.substring(0, colon);
            String[] stride = token.substring(colon + 1).split("/", -1);
            if (stride.length != 2) {
                throw new CpuSetFormatException(token, "a stride must look like 0-31:2/8");
            }
            used = parseNumber(stride[0], token);
            group = parseNumber(stride[1], token);
            if (used == 0 || group == 0 || used > group) {
                throw new CpuSetFormatException(token, "stride needs 0 < used <= group");
            }
        }
        int dash = rangePart.indexOf('-');
        int first;
        int last;
        if (dash < 0) {
            if (colon >= 0) {
                throw new CpuSetFormatException(token, "a stride needs a range, like 0-31:2/8");
            }
            first = last = parseNumber(rangePart, token);
        } else {
            if (dash == 0 && rangePart.length() > 1) {
                throw new CpuSetFormatException(token, "CPU numbers are never negative; the first CPU is 0");
            }
            first = parseNumber(rangePart.substring(0, dash), token);
            last = parseNumber(rangePart.substring(dash + 1), token);
            if (last < first) {
                throw new CpuSetFormatException(token, "range is reversed, write " + last + "-" + first);
            }
        }
        checkId(last, token);
        for (int cpu = first; cpu <= last; cpu++) {
            if ((cpu - first) % group < used) {
                into.set(cpu);
            }
        }
    }

    private static int parseNumber(String digits, String token) {
        if (digits.isEmpty() || digits.length() > 5) {
            throw new CpuSetFormatException(token, digits.isEmpty() ? "missing CPU number" : "CPU number out of range 0-" + (MAX_CPUS - 1));
        }
        int value = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                throw new CpuSetFormatException(token, "not a CPU number or range");
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static int checkId(int cpu, String token) {
        if (cpu < 0 || cpu >= MAX_CPUS) {
            throw new CpuSetFormatException(token, "CPU number out of range 0-" + (MAX_CPUS - 1));
        }
        return cpu;
    }

    /**
     * Parses a hex mask in the kernel's format: groups of up to 8 hex digits
     * separated by commas, most significant group first ({@code ff,ffffffff}).
     * Every group but the first must have exactly 8 digits.
     */
    public static CpuSet parseMask(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new CpuSetFormatException(text, "empty mask");
        }
        String[] groups = s.split(",", -1);
        if (groups.length > MAX_CPUS / 32) {
            throw new CpuSetFormatException(s, "mask wider than " + MAX_CPUS + " CPUs");
        }
        BitSet b = new BitSet();
        for (int g = 0; g < groups.length; g++) {
            String group = groups[g];
            boolean first = g == 0;
            if (group.isEmpty() || group.length() > 8 || (!first && group.length() != 8)) {
                throw new CpuSetFormatException(group, "each group after the first must be 8 hex digits");
            }
            long value = 0;
            for (int i = 0; i < group.length(); i++) {
                int digit = Character.digit(group.charAt(i), 16);
                if (digit < 0) {
                    throw new CpuSetFormatException(group, "not a hex digit: '" + group.charAt(i) + "'");
                }
                value = (value << 4) | digit;
            }
            int base = (groups.length - 1 - g) * 32;
            for (int bit = 0; bit < 32; bit++) {
                if ((value & (1L << bit)) != 0) {
                    b.set(base + bit);
                }
            }
        }
        return new CpuSet(b);
    }

    public boolean contains(int cpu) {
        return cpu >= 0 && bits.get(cpu);
    }

    public boolean isEmpty() {
        return bits.isEmpty();
    }

    public int size() {
        return bits.cardinality();
    }

    /** The lowest CPU id, or -1 for the empty set. */
    public int first() {
        return bits.nextSetBit(0);
    }

    /** The highest CPU id, or -1 for the empty set. */
    public int last() {
        return bits.length() - 1;
    }

    public IntStream stream() {
        return bits.stream();
    }

    public List<Integer> toList() {
        List<Integer> out = new ArrayList<>(size());
        for (int cpu = bits.nextSetBit(0); cpu >= 0; cpu = bits.nextSetBit(cpu + 1)) {
            out.add(cpu); // a loop, not bits.stream(): called all over every hook call, cold
        }
        return out;
    }

    public CpuSet union(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.or(other.bits);
        return new CpuSet(b);
    }

    public CpuSet intersection(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.and(other.bits);
        return new CpuSet(b);
    }

    public CpuSet difference(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.andNot(other.bits);
        return new CpuSet(b);
    }

    public boolean isSubsetOf(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.andNot(other.bits);
        return b.isEmpty();
    }

    public boolean intersects(CpuSet other) {
        return bits.intersects(other.bits);
    }

    /** Canonical list format, ranges of two or more written as {@code a-b}: {@code 0-3,8,10-11}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int start = bits.nextSetBit(0);
        while (start >= 0) {
            int end = bits.nextClearBit(start) - 1;
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(start);
            if (end > start) {
                sb.append('-').append(end);
            }
            start = bits.nextSetBit(end + 1);
        }
        return sb.toString();
    }

    /** Hex mask with as few 32-bit groups as needed (at least one). */
    public String toMask() {
        return toMask(Math.max(1, bits.length()));
    }

    /**
     * Hex mask in the kernel's layout for a machine with {@code width} CPU
     * ids: full groups are 8 digits, the leading group only as wide as
     * needed ({@code nr_cpu_ids=36} prints {@code f,ffffffff}).
     */
    public String toMask(int width) {
        int w = Math.max(width, bits.length());
        int groups = (w + 31) / 32;
        int leadDigits = ((w - 1) % 32) / 4 + 1;
        StringBuilder sb = new StringBuilder();
        for (int g = groups - 1; g >= 0; g--) {
            long value = 0;
            for (int bit = 0; bit < 32; bit++) {
                if (bits.get(g * 32 + bit)) {
                    value |= 1L << bit;
                }
            }
            String hex = Long.toHexString(value);
            int digits = g == groups - 1 ? leadDigits : 8;
            sb.append("0".repeat(Math.max(0, digits - hex.length()))).append(hex);
            if (g > 0) {
                sb.append(',');
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuSet other && bits.equals(other.bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode();
    }

    /** Orders by lowest CPU first, then by size; used for stable, readable output. */
    @Override
    public int compareTo(CpuSet o) {
        int c = Integer.compare(first(), o.first());
        return c != 0 ? c : Integer.compare(size(), o.size());
    }
}
