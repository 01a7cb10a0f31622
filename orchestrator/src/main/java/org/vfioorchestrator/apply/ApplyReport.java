package org.vfioorchestrator.apply;

import java.util.List;
import org.vfioorchestrator.plan.Plan;

/**
 * What an apply did.
 *
 * @param changed  changes made
 * @param refused  what the kernel would not move (managed IRQs, per-CPU kernel threads)
 * @param gone     what disappeared before it could be changed (exited threads, removed IRQs)
 * @param archived a journal from an earlier boot that was moved aside, or null
 */
public record ApplyReport(String vm, Plan plan, int changed, List<String> refused, List<String> gone, String archived) {
}
