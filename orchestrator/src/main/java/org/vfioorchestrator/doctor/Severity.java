package org.vfioorchestrator.doctor;

import java.util.Locale;

/** How much a finding matters; doctor exits 1 when anything is at WARNING or above. */
public enum Severity {
    ERROR, WARNING, INFO;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean atLeastWarning() {
        return this != INFO;
    }
}
