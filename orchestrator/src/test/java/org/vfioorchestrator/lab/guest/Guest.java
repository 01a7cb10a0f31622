package org.vfioorchestrator.lab.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Commands run inside the lab guest (argument arrays), and what systemd says. */
final class Guest {
    private Guest() {
    }

    record Out(int code, String out, String err) {
        boolean ok() {
            return code == 0;
        }

        String both() {
            return (out + err).strip();
        }
    }

    static Out run(long timeoutSeconds, String... command) {
        return run(Map.of(), timeoutSeconds, command);
    }

    /** Runs a command with {@code env} added to this process's environment. */
    static Out run(Map<String, String> env, long timeoutSeconds, String... command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            Process p = pb.start();
            // both pipes drained on threads of their own, so a chatty command cannot block on a full pipe
            StreamText out = new StreamText(p.getInputStream());
            StreamText err = new StreamText(p.getErrorStream());
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return new Out(-1, out.text(), err.text() + "\n(killed after " + timeoutSeconds + " s: " + String.join(" ", command) + ")");
            }
            return new Out(p.exitValue(), out.text(), err.text());
        } catch (IOException e) {
            return new Out(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Out(-1, "", e.toString());
        }
    }

    /** Runs a command that must succeed. */
    static String must(String... command) {
        Out o = run(120, command);
        if (!o.ok()) {
            throw new AssertionError(String.join(" ", command) + " exited " + o.code() + ": " + o.both());
        }
        return o.out();
    }

    static List<String> runningServices() {
        Out o = run(60, "systemctl", "list-units", "--type=service", "--state=running", "--no-legend", "--plain", "--no-pager");
        List<String> units = new ArrayList<>();
        for (String line : o.out().split("\n")) {
            String[] words = line.strip().split("\\s+");
            if (words.length > 0 && words[0].endsWith(".service")) {
                units.add(words[0]);
            }
        }
        return units;
    }

    /** Properties of several units in one systemctl call (a process start costs an emulated guest a lot). */
    static Map<String, Map<String, String>> unitProperties(List<String> units, String... properties) {
        List<String> cmd = new ArrayList<>(List.of("systemctl", "show"));
        cmd.addAll(units);
        for (String p : properties) {
            cmd.add("-p");
            cmd.add(p);
        }
        // systemctl prints one block per unit, in the order asked, blocks separated by an empty line
        String[] blocks = run(60, cmd.toArray(String[]::new)).out().split("\n\n", -1);
        Map<String, Map<String, String>> all = new LinkedHashMap<>();
        for (int i = 0; i < units.size() && i < blocks.length; i++) {
            Map<String, String> m = new LinkedHashMap<>();
            for (String line : blocks[i].split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    m.put(line.substring(0, eq), line.substring(eq + 1).strip());
                }
            }
            all.put(units.get(i), m);
        }
        return all;
    }

    static Map<String, String> unitProperties(String unit, String... properties) {
        List<String> cmd = new ArrayList<>(List.of("systemctl", "show", unit));
        for (String p : properties) {
            cmd.add("-p");
            cmd.add(p);
        }
        Out o = run(60, cmd.toArray(String[]::new));
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : o.out().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1).strip());
            }
        }
        return m;
    }

    /** Reads a stream to the end on a thread of its own. */
    private static final class StreamText {
        private final Thread thread;
        private final StringBuilder text = new StringBuilder();

        StreamText(java.io.InputStream in) {
            thread = new Thread(() -> {
                try (in) {
                    String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    synchronized (text) {
                        text.append(s);
                    }
                } catch (IOException e) {
                    synchronized (text) {
                        text.append(e);
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        String text() throws InterruptedException {
            thread.join(10_000);
            synchronized (text) {
                return text.toString();
            }
        }
    }
}
