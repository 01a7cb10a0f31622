package org.vfioorchestrator.measure;

import java.io.PrintWriter;

/** Tells the user how far a measurement is. */
public interface Progress {
    void update(int done, int total);

    void finish();

    Progress NONE = new Progress() {
        @Override
        public void update(int done, int total) {
        }

        @Override
        public void finish() {
        }
    };

    /**
     * A bar redrawn in place on a terminal; otherwise (a log, a pipe) one line every
     * {@code every} seconds so a journal is not flooded with carriage returns.
     */
    static Progress to(PrintWriter err, boolean terminal, String what, int every) {
        return new Progress() {
            private boolean drawn;

            @Override
            public void update(int done, int total) {
                if (terminal) {
                    int width = 30;
                    int filled = total == 0 ? width : (int) ((long) done * width / total);
                    err.print("\r" + what + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total + " s");
                    err.flush();
                    drawn = true;
                } else if (done > 0 && (done % every == 0 || done == total)) {
                    err.println(what + ": " + done + "/" + total + " s");
                    err.flush();
                }
            }

            @Override
            public void finish() {
                if (drawn) {
                    err.print("\r" + " ".repeat(what.length() + 45) + "\r");
                    err.flush();
                }
            }
        };
    }
}
