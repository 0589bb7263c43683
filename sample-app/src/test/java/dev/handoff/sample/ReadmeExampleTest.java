package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's "Testing your streams" example is this module's StreamsWithTheKitTest, so it compiles and passes. */
class ReadmeExampleTest {

    @Test
    void theReadmeShowsTheTestThatTheBuildRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String test = Files.readString(Path.of("src", "test", "java", "dev", "handoff", "sample",
                "StreamsWithTheKitTest.java"));
        assertThat(readme).as("README.md's copy of StreamsWithTheKitTest.java").contains("```java\n" + test.strip()
                + "\n```");
    }
}
