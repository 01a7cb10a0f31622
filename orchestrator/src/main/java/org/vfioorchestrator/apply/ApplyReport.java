package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.plan.Plan;

/**
 * What an apply did.
 *
 * @param changed  changes made
 * @param refused  what the kernel would not move (managed IRQs, per-CPU kernel threads), each once
 * @param gone     what disappeared before it could be changed (exited threads, removed IRQs)
 * @param archived a journal from an earlier boot that was moved aside, or null
 */
public record ApplyReport(String vm, Plan plan, int changed, List<Refusal> refused, List<String> gone, String archived) {
    /** Names shown per reason; {@code --verbose} and the hook's log list them all. */
    static final int SHOWN = 5;

    /**
     * One line for people, the refusals grouped by reason:
     * {@code left in place (the kernel refused) 2: IRQ 31, IRQ 32: managed by the kernel, ... (EPERM)}; empty
     * when nothing was refused.
     */
    public String refusedSummary() {
        if (refused.isEmpty()) {
            return "";
        }
        Map<String, List<String>> byWhy = new LinkedHashMap<>();
        for (Refusal r : refused) {
            List<String> names = byWhy.get(r.why());
            if (names == null) {
                names = new ArrayList<>();
                byWhy.put(r.why(), names);
            }
            names.add(r.what());
        }
        List<String> groups = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : byWhy.entrySet()) {
            List<String> names = e.getValue();
            String shown = String.join(", ", names.subList(0, Math.min(SHOWN, names.size())))
                    + (names.size() > SHOWN ? " and " + (names.size() - SHOWN) + " more" : "");
            groups.add(shown + ": " + e.getKey());
        }
        return "left in place (the kernel refused) " + refused.size() + ": " + String.join("; ", groups);
    }
}
