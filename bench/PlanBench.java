import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.vfioorchestrator.cli.Main;

/**
 * Warm, in-process timing of the plan command: {@code Main.run("plan", PROFILE, "--host-root", DIR)},
 * exactly what the CLI does (topology, profile, host snapshot, planner, text), output discarded.
 * Not a test. Run by bench/plan-scaling.sh:
 *   java -cp JAR bench/PlanBench.java WARMUP RUNS DIR PROFILE [DIR PROFILE ...]
 * Prints one line per host: median, min and max of RUNS timed runs after WARMUP untimed ones.
 */
public class PlanBench {
    public static void main(String[] args) {
        int warmup = Integer.parseInt(args[0]);
        int runs = Integer.parseInt(args[1]);
        for (int i = 2; i + 1 < args.length; i += 2) {
            String dir = args[i];
            String profile = args[i + 1];
            for (int w = 0; w < warmup; w++) {
                once(dir, profile);
            }
            List<Double> ms = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                once(dir, profile);
                ms.add((System.nanoTime() - t) / 1e6);
            }
            Collections.sort(ms);
            double median = runs % 2 == 1 ? ms.get(runs / 2) : (ms.get(runs / 2 - 1) + ms.get(runs / 2)) / 2;
            System.out.printf("%s  median %.1f ms  min %.1f  max %.1f  (%d runs after %d warm-up)%n",
                    dir.replaceAll(".*/", ""), median, ms.get(0), ms.get(runs - 1), runs, warmup);
        }
    }

    private static void once(String dir, String profile) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(Writer.nullWriter()), new PrintWriter(err), "plan", profile, "--host-root", dir);
        if (code != 0) {
            throw new IllegalStateException("plan failed (" + code + "): " + err);
        }
    }
}
