package org.vfioorchestrator.doctor;

/**
 * One thing doctor found. {@code id} is stable (tests and scripts match on it);
 * {@code evidence} is the XML element or host file and the value seen; {@code why}
 * is one sentence; {@code fix} is what to write where (an XML snippet, a profile
 * line, a kernel parameter).
 */
public record Finding(Severity severity, String id, String evidence, String why, String fix) {
}
