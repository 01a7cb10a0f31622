package org.vfioorchestrator.cli;

import java.util.Arrays;
import org.vfioorchestrator.hook.HookMain;

/**
 * The jar's entry point. {@code hook}, which libvirt waits for on every VM start, goes
 * straight to {@link HookMain} without building the CLI's picocli model (whose classes,
 * compiled for Java 5, cannot even go into a class-data-sharing archive); the training run
 * behind {@code vfio-orchestrator cds-archive} to {@link CdsTraining}; everything else to
 * {@link Main}.
 */
public final class Entry {
    private Entry() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("hook")) {
            HookMain.main(Arrays.copyOfRange(args, 1, args.length));
        } else if (args.length > 0 && args[0].equals(CdsTraining.COMMAND)) {
            System.exit(CdsTraining.run(System.err));
        } else {
            Main.main(args);
        }
    }
}
