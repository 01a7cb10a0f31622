package org.vfioorchestrator.lab.guest;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.vfioorchestrator.cli.Main;

/**
 * A vfio-orchestrator JVM started ahead, for the kill points: it plans VM's profile (read-only) so its
 * classes are loaded and compiled, waits for a line on stdin, then runs the command it was given and
 * exits with its code. The SIGKILL then lands in the command's work, not in a JVM start, which under TCG
 * takes longer than the apply itself.
 *
 * <p>Usage: {@code Armed VM COMMAND ARGS...}.
 */
public final class Armed {
    private Armed() {
    }

    public static void main(String[] args) throws Exception {
        PrintWriter discard = new PrintWriter(new StringWriter());
        Main.run(discard, discard, "plan", Tool.PROFILES.resolve(args[0] + ".yaml").toString());
        System.out.println("armed");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        String[] command = java.util.Arrays.copyOfRange(args, 1, args.length);
        PrintWriter out = new PrintWriter(System.out, true);
        System.exit(Main.run(out, out, command));
    }
}
