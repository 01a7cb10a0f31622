package org.vfioorchestrator.apply;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.vfioorchestrator.ExitCode;
import org.vfioorchestrator.OrchestratorException;
import org.vfioorchestrator.host.FileFacts;
import org.vfioorchestrator.host.HostFs;
import org.vfioorchestrator.profile.ProfileStore;

/**
 * Keeps the journal in {@code /run/vfio-orchestrator/journal.json}: on tmpfs,
 * like the kernel settings it describes, so both go at reboot. Written whole
 * and atomically (temp file, fsync, rename) with a checksum line, so a torn or
 * edited file is refused instead of half-trusted. The directory and files
 * must be ours and private: a symlink or a foreign owner is refused.
 */
public final class JournalStore {
    public static final String STATE_DIR = "/run/vfio-orchestrator";
    public static final String JOURNAL = STATE_DIR + "/journal.json";
    static final String LOCK = STATE_DIR + "/lock";
    private static final String HEADER = "# vfio-orchestrator journal v" + Journal.VERSION + " crc32c=";
    /** What version 1 wrote (SHA-256 of the body): read, so that an upgrade while a VM runs still restores it. */
    private static final String HEADER_V1 = "# vfio-orchestrator journal v1 sha256=";
    private static final int MAX_BYTES = 16 * 1024 * 1024;
    /** Indented, for people who read the journal. */
    private static final JSON PRETTY = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    private final HostFs host;
    private final AppliedMarkers markers;

    public JournalStore(HostFs host) {
        this.host = host;
        this.markers = new AppliedMarkers(host, this);
    }

    /** Where the journal lives on the real file system, for messages. */
    public String journalPath() {
        return host.resolve(JOURNAL).toString();
    }

    public String currentBootId() {
        return host.read("/proc/sys/kernel/random/boot_id").orElse("unknown").strip();
    }

    /** Serialises hook calls and commands: at most one of us changes the host at a time. */
    public AutoCloseable lock(Duration timeout) {
        ensureDirectory();
        checkNotLink(LOCK);
        AutoCloseable lock = host.tryLock(LOCK, timeout);
        if (lock == null) {
            throw OrchestratorException.state("another vfio-orchestrator is changing the host (" + host.resolve(LOCK)
                    + " is locked for more than " + timeout.toSeconds() + " s); wait for it, or find it with: fuser -v "
                    + host.resolve(LOCK));
        }
        return lock;
    }

    public Optional<Journal> load() {
        checkDirectoryIfPresent();
        checkNotLink(JOURNAL);
        Optional<String> text = host.read(JOURNAL);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(parse(text.get()));
    }

    Journal parse(String text) {
        String where = host.resolve(JOURNAL).toString();
        int nl = text.indexOf('\n');
        String header = nl < 0 ? text : text.substring(0, nl);
        String body = text.substring(nl + 1);
        int headerVersion = header.startsWith(HEADER) ? Journal.VERSION : header.startsWith(HEADER_V1) ? 1 : 0;
        if (headerVersion == 0 || nl < 0) {
            throw corrupt(where, "it does not start with the journal header");
        }
        String sum = header.substring(headerVersion == 1 ? HEADER_V1.length() : HEADER.length()).strip();
        if (!sum.equals(headerVersion == 1 ? sha256(body) : crc32c(body))) {
            throw corrupt(where, "its checksum does not match (truncated or edited)");
        }
        Object json;
        try {
            json = JSON.std.anyFrom(body);
        } catch (IOException e) {
            throw corrupt(where, "it does not parse: " + e.getMessage());
        }
        if (!(json instanceof Map<?, ?> m)) {
            throw corrupt(where, "it is not a JSON object");
        }
        if (!(m.get("version") instanceof Number version) || version.longValue() != headerVersion) {
            throw corrupt(where, "it has journal version " + m.get("version") + ", this tool reads 1 and " + Journal.VERSION);
        }
        try {
            JsonFields top = new JsonFields(m);
            String bootId = top.string("bootId");
            EntryChecks.text("bootId", bootId);
            if (!(m.get("vms") instanceof Map<?, ?> vmMap)) {
                throw new IllegalArgumentException("'vms' is " + (m.get("vms") == null ? "missing" : "not a JSON object"));
            }
            Map<String, Journal.AppliedVm> vms = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : vmMap.entrySet()) {
                vms.put(vmName(e.getKey()), appliedVm(e.getKey(), e.getValue()));
            }
            if (!(m.get("entries") instanceof List<?> list)) {
                throw new IllegalArgumentException("'entries' is " + (m.get("entries") == null ? "missing" : "not a list"));
            }
            List<JournalEntry> entries = new ArrayList<>();
            List<String> refused = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                try {
                    entries.add(JournalEntry.fromJson(list.get(i)));
                } catch (IllegalArgumentException e) {
                    refused.add("entry " + (i + 1) + describe(list.get(i)) + ": " + e.getMessage());
                }
            }
            return new Journal(bootId, vms, entries, refused);
        } catch (IllegalArgumentException e) {
            throw corrupt(where, "its " + e.getMessage());
        }
    }

    private static String vmName(Object key) {
        try {
            return ProfileStore.checkVmName((String) key);
        } catch (OrchestratorException e) {
            throw new IllegalArgumentException(e.getMessage()); // "VM name '...' is not supported: ..."
        }
    }

    private static Journal.AppliedVm appliedVm(Object vm, Object json) {
        if (!(json instanceof Map<?, ?> v)) {
            throw new IllegalArgumentException("'vms' entry " + vm + " is not a JSON object");
        }
        JsonFields f = new JsonFields(v);
        Journal.AppliedVm applied = new Journal.AppliedVm(f.string("profileSource"), f.string("profileText"), f.string("appliedAt"));
        if (applied.profileSource() == null || applied.profileText() == null || applied.appliedAt() == null) {
            throw new IllegalArgumentException("'vms' entry " + vm + " lacks its profileSource, profileText or appliedAt");
        }
        return applied;
    }

    /** " (TYPE PATH)" of an entry, as far as it says, for a message about it. */
    private static String describe(Object entry) {
        if (!(entry instanceof Map<?, ?> m)) {
            return "";
        }
        String type = m.get("type") instanceof String t ? t : "?";
        String path = m.get("path") instanceof String p ? p : "no path";
        return " (" + type + " " + path.replaceAll("\\p{Cntrl}", "?") + ")";
    }

    private static OrchestratorException corrupt(String where, String why) {
        return new OrchestratorException(ExitCode.UNEXPECTED_STATE, where + ": refusing the journal: " + why
                + ". It is the only record of what to restore, so nothing was changed. Read it (it is JSON) and undo"
                + " by hand what it lists, or reboot (every setting this tool makes is reset at boot); then remove it.");
    }

    public void save(Journal journal) {
        ensureDirectory();
        checkNotLink(JOURNAL);
        markers.cover(journal.vms().keySet());
        if (journal.isEmpty()) {
            host.delete(JOURNAL);
            markers.keepOnly(Set.of());
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", Journal.VERSION);
        body.put("bootId", journal.bootId());
        Map<String, Object> vms = new LinkedHashMap<>();
        for (Map.Entry<String, Journal.AppliedVm> e : new TreeMap<>(journal.vms()).entrySet()) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("profileSource", e.getValue().profileSource());
            v.put("profileText", e.getValue().profileText());
            v.put("appliedAt", e.getValue().appliedAt());
            vms.put(e.getKey(), v);
        }
        body.put("vms", vms);
        List<Object> entries = new ArrayList<>();
        for (JournalEntry entry : journal.entries()) {
            entries.add(entry.toJson());
        }
        body.put("entries", entries);
        String json;
        try {
            json = PRETTY.asString(body) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("the journal's values are strings, numbers, lists and maps", e);
        }
        byte[] bytes = (HEADER + crc32c(json) + "\n" + json).getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new IllegalStateException("journal grew beyond " + MAX_BYTES + " bytes");
        }
        host.replaceAtomically(JOURNAL, bytes);
        markers.keepOnly(journal.vms().keySet());
    }

    /** Moves a journal from an earlier boot aside, so it is kept for reading but never applied. */
    public String archiveStale(Journal stale) {
        String path = STATE_DIR + "/journal.stale-" + stale.bootId().replaceAll("[^A-Za-z0-9-]", "") + ".json";
        host.replaceAtomically(path, host.read(JOURNAL).orElse("").getBytes(StandardCharsets.UTF_8));
        host.delete(JOURNAL);
        markers.keepOnly(Set.of());
        return host.resolve(path).toString();
    }

    private void ensureDirectory() {
        if (!host.exists(STATE_DIR)) {
            host.createPrivateDirectories(STATE_DIR);
        }
        checkDirectoryIfPresent();
    }

    private void checkDirectoryIfPresent() {
        checkPrivateDirectory(STATE_DIR);
    }

    /** A state directory must be ours and private: never a symlink (not followed), nobody else's, nobody else may write it. */
    void checkPrivateDirectory(String path) {
        Optional<FileFacts> dir = host.stat(path);
        if (dir.isEmpty()) {
            return;
        }
        FileFacts f = dir.get();
        String where = host.resolve(path).toString();
        if (f.symlink() || !f.directory()) {
            throw OrchestratorException.data(where + " is " + (f.symlink() ? "a symlink" : "not a directory")
                    + "; refusing to follow it. Remove it; the tool recreates it as a private directory");
        }
        if (f.ownerUid() != Users.effectiveUid() || f.writableByOthers()) {
            throw OrchestratorException.data(where + " is owned by uid " + f.ownerUid() + " with mode "
                    + Integer.toOctalString(f.mode()) + "; it must be ours (uid " + Users.effectiveUid()
                    + ") and not writable by others: chown root:root and chmod 700 it");
        }
    }

    /** A state file is ours: never a symlink (not followed), never a pipe or device (could block or never end). */
    private void checkNotLink(String path) {
        Optional<FileFacts> stat = host.stat(path);
        if (stat.isEmpty()) {
            return;
        }
        FileFacts f = stat.get();
        if (f.symlink()) {
            throw OrchestratorException.data(host.resolve(path) + " is a symlink; refusing to follow it. Remove it");
        }
        if (!f.regular()) {
            throw OrchestratorException.data(host.resolve(path) + " is not a regular file ("
                    + (f.directory() ? "a directory" : "a pipe, socket or device") + "); refusing it. Remove it");
        }
    }

    /**
     * The checksum line: it catches a truncated or hand-edited file (the file is written atomically and
     * only root can write it, so no adversary forges it). CRC-32C, not a cryptographic hash: the JDK
     * computes it without loading its security providers, about 15 ms of every hook call.
     */
    static String crc32c(String s) {
        CRC32C crc = new CRC32C();
        crc.update(s.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    /** Version 1's checksum line. */
    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
