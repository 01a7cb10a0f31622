package org.vfioorchestrator.testing;

import java.util.SplittableRandom;

/** Damaged copies of a good text, for parsers: one to three edits, each a character replaced, deleted or inserted, or the text cut short. */
public final class Damage {
    private Damage() {
    }

    /** A copy of {@code good} with 1 to 3 edits at random places; replaced and inserted characters come from {@code chars}. */
    public static String of(String good, SplittableRandom r, String chars) {
        StringBuilder b = new StringBuilder(good);
        for (int k = r.nextInt(1, 4); k > 0 && b.length() > 0; k--) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(4)) {
                case 0 -> b.setCharAt(at, chars.charAt(r.nextInt(chars.length())));
                case 1 -> b.deleteCharAt(at);
                case 2 -> b.insert(at, chars.charAt(r.nextInt(chars.length())));
                default -> b.setLength(at);
            }
        }
        return b.toString();
    }
}
