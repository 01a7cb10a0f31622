package org.vfioorchestrator.profile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import org.vfioorchestrator.OrchestratorException;

/**
 * A profile's bytes as read once, and where from: what is checked and what is loaded are the same bytes,
 * never the file opened a second time.
 */
public record ProfileFile(Path path, byte[] bytes) {

    /**
     * A profile file a user named (not an installed one): at most {@link ProfileLoader#MAX_BYTES}, the size of
     * /dev/zero, a pipe or a file still growing says nothing. {@code noFollow}: a symlink is not followed.
     */
    public static ProfileFile read(Path file, boolean noFollow) {
        OpenOption[] options = noFollow ? new OpenOption[] {LinkOption.NOFOLLOW_LINKS} : new OpenOption[0];
        try (InputStream in = Files.newInputStream(file, options)) {
            return new ProfileFile(file, in.readNBytes(ProfileLoader.MAX_BYTES + 1));
        } catch (NoSuchFileException e) {
            throw OrchestratorException.data(file + ": no such profile; copy profiles/template.yaml there and edit it");
        } catch (IOException e) {
            throw OrchestratorException.data(file + ": cannot read profile: " + e.getMessage());
        }
    }

    /** The VM a profile is for when it has no {@code vm:} key: its file name without {@code .yaml} or {@code .yml}. */
    public String defaultVm() {
        String name = path.getFileName().toString();
        for (String suffix : new String[] {".yaml", ".yml"}) {
            if (name.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return name;
    }
}
