package org.vfioorchestrator.measure;

/**
 * What a latency tool measured inside a guest, on its own vCPUs (their numbers in {@code latency} are
 * the guest's).
 *
 * @param os     the guest's name for its system ("Debian GNU/Linux 12 (bookworm)"), empty if unknown
 * @param kernel the guest's kernel release, empty if unknown
 */
public record GuestResult(String os, String kernel, ProbeResult latency) {
}
