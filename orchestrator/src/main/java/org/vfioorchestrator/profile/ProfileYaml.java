package org.vfioorchestrator.profile;

import java.io.StringReader;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import org.vfioorchestrator.OrchestratorException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads a profile's YAML with SnakeYAML into a {@link YamlNode} tree that keeps every node's line and
 * column, within {@link LoaderOptions} limits (no duplicate keys, few aliases, bounded size and depth),
 * and says where YAML that is not valid goes wrong.
 */
final class ProfileYaml {
    private ProfileYaml() {
    }

    /** The document's node tree; an {@link OrchestratorException} naming the place for YAML that is not valid. */
    static YamlNode read(String text, String source) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(ProfileLoader.MAX_BYTES);
        options.setNestingDepthLimit(20);
        try {
            // what Yaml.compose does, without building the Yaml facade's object constructor and dumper
            Node root = new Composer(new ParserImpl(new StreamReader(new StringReader(text)), options), new Resolver(), options)
                    .getSingleNode();
            if (root == null) {
                throw OrchestratorException.data(source + ": the profile is empty; start from profiles/template.yaml");
            }
            return convert(root, new IdentityHashMap<>());
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String where = m == null ? source : source + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1);
            throw OrchestratorException.data(where + ": not valid YAML: " + e.getProblem()
                    + "; check indentation (spaces, not tabs) and quoting");
        } catch (ReaderException e) {
            // a control character such as NUL: SnakeYAML says only "special characters are not allowed"
            int line = 1; // of the code point at e.getPosition()
            int codePoints = 0;
            for (int i = 0; i < text.length() && codePoints < e.getPosition(); i += Character.charCount(text.codePointAt(i))) {
                if (text.charAt(i) == '\n') {
                    line++;
                }
                codePoints++;
            }
            throw OrchestratorException.data(source + ": character U+" + String.format(Locale.ROOT, "%04X", e.getCodePoint())
                    + " at line " + line + " is not allowed in YAML; remove it");
        } catch (YAMLException e) {
            if (String.valueOf(e.getMessage()).startsWith("Number of aliases")) {
                // SnakeYAML's guard against "billion laughs" (aliases of aliases blowing up memory)
                throw OrchestratorException.data(source + ": too many YAML aliases (*name); a profile needs none,"
                        + " write the values out");
            }
            throw OrchestratorException.data(source + ": not valid YAML: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            // SnakeYAML throws this, not a YAMLException, for some malformed tags such as !=*%c (found by Jazzer)
            throw OrchestratorException.data(source + ": not valid YAML: " + e.getMessage()
                    + " A profile needs no '!' tags; remove them");
        }
    }

    /** SnakeYAML's nodes as ours; a node reached twice (an alias) becomes one node reached twice. */
    private static YamlNode convert(Node n, Map<Node, YamlNode> done) {
        YamlNode seen = done.get(n);
        if (seen != null) {
            return seen;
        }
        Mark m = n.getStartMark();
        int line = m.getLine() + 1;
        int column = m.getColumn() + 1;
        if (n instanceof MappingNode mn) {
            YamlNode.Mapping out = new YamlNode.Mapping(line, column);
            done.put(n, out);
            for (NodeTuple t : mn.getValue()) {
                out.entries().add(new YamlNode.Entry(convert(t.getKeyNode(), done), convert(t.getValueNode(), done)));
            }
            return out;
        }
        if (n instanceof SequenceNode sn) {
            YamlNode.Sequence out = new YamlNode.Sequence(line, column);
            done.put(n, out);
            for (Node item : sn.getValue()) {
                out.items().add(convert(item, done));
            }
            return out;
        }
        YamlNode out = new YamlNode.Scalar(((ScalarNode) n).getValue(), line, column);
        done.put(n, out);
        return out;
    }
}
