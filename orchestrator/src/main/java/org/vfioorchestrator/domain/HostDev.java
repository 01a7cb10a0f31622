package org.vfioorchestrator.domain;

import java.util.Optional;

/** A {@code <hostdev mode type managed>}; for PCI, the source address as {@code 0000:0b:00.0}. */
public record HostDev(String mode, String type, boolean managed, Optional<String> pciAddress) {
}
