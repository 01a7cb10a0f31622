package org.vfioorchestrator.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.vfioorchestrator.cli.Main;

/** One command run as a user would type it, through {@code Main.run}: its exit code and what it printed. */
public record CliRun(int code, String out, String err) {

    public static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
