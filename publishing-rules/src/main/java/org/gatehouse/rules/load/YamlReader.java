package org.gatehouse.rules.load;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.ListNode;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.load.YamlNode.Scalar;
import org.gatehouse.rules.load.YamlNode.ScalarType;

/** Builds a {@link YamlNode} tree from YAML text with Jackson's streaming parser, keeping every node's position. */
final class YamlReader {

    /** SnakeYAML's own limit on a document, raised to the rules file's size limit, which is checked first. */
    private static final YAMLFactory FACTORY = YAMLFactory.builder().loaderOptions(loaderOptions()).build();

    private static org.yaml.snakeyaml.LoaderOptions loaderOptions() {
        org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
        options.setCodePointLimit(BoundedFile.MAX_RULES_FILE);
        return options;
    }

    private final String fileName;
    private final List<Problem> problems;

    private YamlReader(String fileName, List<Problem> problems) {
        this.fileName = fileName;
        this.problems = problems;
    }

    /**
     * Reads one document. Duplicate keys are added to {@code problems} (the first value is kept); a syntax error
     * throws, since nothing after it can be trusted.
     */
    static YamlNode read(String text, String fileName, List<Problem> problems) throws RulesException {
        YamlReader reader = new YamlReader(fileName, problems);
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new Scalar("", ScalarType.NULL, new SourcePosition(fileName, 1, 1));
            }
            return reader.readValue(parser);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            if (loc == null) {
                throw new RulesException(new Problem(SourcePosition.unknown(fileName), "", "YAML syntax error: "
                        + summary(e.getOriginalMessage())));
            }
            throw new RulesException(YamlHints.problem(text, fileName, Math.max(loc.getLineNr(), 1),
                    Math.max(loc.getColumnNr(), 1), summary(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new RulesException(
                    new Problem(SourcePosition.unknown(fileName), "", "cannot read: " + e.getMessage()));
        }
    }

    /** SnakeYAML's message without its quoted excerpts and "in 'reader'" lines, which our position replaces. */
    private static String summary(String message) {
        if (message == null || message.isBlank()) {
            return "unreadable YAML";
        }
        StringJoiner out = new StringJoiner("; ");
        for (String line : message.split("\n")) {
            if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                out.add(line.trim());
            }
        }
        return out.toString();
    }

    private SourcePosition here(JsonParser parser) {
        JsonLocation loc = parser.currentTokenLocation();
        return new SourcePosition(fileName, loc.getLineNr(), loc.getColumnNr());
    }

    private YamlNode readValue(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        SourcePosition pos = here(parser);
        switch (token) {
            case START_OBJECT : {
                Map<String, Entry> entries = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    SourcePosition keyPos = here(parser);
                    parser.nextToken();
                    YamlNode value = readValue(parser);
                    if (entries.containsKey(key)) {
                        problems.add(new Problem(keyPos, "", "duplicate key \"" + key + "\" (first written at line "
                                + entries.get(key).keyPosition().line() + ")"));
                    } else {
                        entries.put(key, new Entry(key, keyPos, value));
                    }
                }
                return new MapNode(entries, pos);
            }
            case START_ARRAY : {
                List<YamlNode> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(readValue(parser));
                }
                return new ListNode(items, pos);
            }
            case VALUE_STRING :
                return new Scalar(parser.getText(), ScalarType.STRING, pos);
            case VALUE_NUMBER_INT :
                return new Scalar(parser.getText(), ScalarType.INTEGER, pos);
            case VALUE_NUMBER_FLOAT :
                return new Scalar(parser.getText(), ScalarType.FLOAT, pos);
            case VALUE_TRUE :
            case VALUE_FALSE :
                return new Scalar(parser.getText(), ScalarType.BOOLEAN, pos);
            case VALUE_NULL :
                return new Scalar("", ScalarType.NULL, pos);
            default :
                throw new JsonProcessingException("unexpected " + token, parser.currentTokenLocation()) {
                    private static final long serialVersionUID = 1L;
                };
        }
    }
}
