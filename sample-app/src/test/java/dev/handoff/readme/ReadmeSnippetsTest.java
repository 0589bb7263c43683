package dev.handoff.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every Java example in README.md is code the build compiles: each {@code ```java} block follows a comment
 * {@code <!-- compiled: <file>[#<region>] -->} naming a source file of this repository (the whole file, or the lines
 * between {@code // readme:begin <region>} and {@code // readme:end <region>}, less their common indentation), and
 * shows exactly that.
 */
class ReadmeSnippetsTest {

    private static final Path ROOT = Path.of("..");
    private static final Pattern BLOCK = Pattern.compile("(?m)^```java\\n(.*?)^```$", Pattern.DOTALL);
    private static final Pattern MARKER = Pattern.compile("<!-- compiled: ([^#\\s]+)(?:#(\\S+))? -->\\s*$");

    @Test
    void everyJavaExampleInTheReadmeIsCompiledCode() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher block = BLOCK.matcher(readme);
        List<String> problems = new ArrayList<>();
        int blocks = 0;
        while (block.find()) {
            blocks++;
            int line = readme.substring(0, block.start()).split("\n", -1).length;
            String before = readme.substring(0, block.start()).stripTrailing();
            Matcher marker = MARKER.matcher(before.substring(before.lastIndexOf('\n') + 1));
            if (!marker.find()) {
                problems.add("README.md line " + line + ": a java block with no <!-- compiled: file#region --> before it");
                continue;
            }
            Path file = ROOT.resolve(marker.group(1));
            if (!Files.isRegularFile(file)) {
                problems.add("README.md line " + line + ": no such file " + marker.group(1));
                continue;
            }
            String source = Files.readString(file);
            String expected = marker.group(2) == null ? source.strip() : region(source, marker.group(2));
            if (expected == null) {
                problems.add("README.md line " + line + ": no region " + marker.group(2) + " in " + marker.group(1));
            } else if (!block.group(1).strip().equals(expected)) {
                problems.add("README.md line " + line + ": differs from " + marker.group(1)
                        + (marker.group(2) == null ? "" : "#" + marker.group(2)) + "; it should read:\n" + expected);
            }
        }
        assertThat(blocks).as("java blocks in README.md").isGreaterThan(5);
        assertThat(problems).as("README.md's java examples").isEmpty();
    }

    /** The region's lines, less their common indentation; null if the file has no such region. */
    private static String region(String source, String name) {
        List<String> lines = source.lines().toList();
        int begin = -1;
        int end = -1;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.equals("// readme:begin " + name)) {
                begin = i + 1;
            } else if (l.equals("// readme:end " + name) && begin >= 0) {
                end = i;
                break;
            }
        }
        if (begin < 0 || end < 0) {
            return null;
        }
        List<String> body = lines.subList(begin, end);
        int indent = body.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        StringBuilder out = new StringBuilder();
        for (String l : body) {
            out.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        return out.toString().strip();
    }
}
