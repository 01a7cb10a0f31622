package org.vfioorchestrator.cpu;

/** A CPU list or mask that does not parse; the message names the offending token. */
public final class CpuSetFormatException extends IllegalArgumentException {
    private final String token;

    public CpuSetFormatException(String token, String problem) {
        super("'" + token + "': " + problem);
        this.token = token;
    }

    public String token() {
        return token;
    }
}
