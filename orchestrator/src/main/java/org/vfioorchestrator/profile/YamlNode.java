package org.vfioorchestrator.profile;

import java.util.ArrayList;
import java.util.List;

/**
 * A node of a profile's YAML, as {@link ProfileLoader} checks it: a mapping, a list or a single value,
 * with the line and column (from 1) where it starts, for the messages. Scalars are kept as written (no
 * YAML type is resolved): the loader reads {@code yes}, {@code 0,16} or {@code 30s} itself.
 *
 * <p>{@link ProfileYaml} builds it from SnakeYAML's nodes. A YAML alias makes one node appear twice in
 * the tree (the same object), which the loader refuses.
 */
public sealed interface YamlNode {
    int line();

    int column();

    /** A single value, as its text. */
    record Scalar(String value, int line, int column) implements YamlNode {
    }

    /** A list; {@code items} is filled after the node exists, so that an alias can point back into it. */
    record Sequence(List<YamlNode> items, int line, int column) implements YamlNode {
        Sequence(int line, int column) {
            this(new ArrayList<>(), line, column);
        }
    }

    /** A mapping, its entries in the order written, a key given twice included. */
    record Mapping(List<Entry> entries, int line, int column) implements YamlNode {
        Mapping(int line, int column) {
            this(new ArrayList<>(), line, column);
        }
    }

    record Entry(YamlNode key, YamlNode value) {
    }
}
