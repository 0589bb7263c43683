package dev.handoff.core.support;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a container test that logged a warning, an error or a stack trace it did not expect: what the
 * server logs on an ordinary path (a client that left, a slow consumer cut) is part of the behaviour, and a
 * container that prints 40 lines for each is a defect (Jetty 12.0 did, for every slow consumer).
 *
 * <p>It tees {@code System.err}, where slf4j-simple (Handoff, Jetty) and java.util.logging (Tomcat) write,
 * and looks at what was written while the test method ran. A test that provokes a warning on purpose says
 * so with {@link #expect(String)}.
 */
public final class LogWatch implements BeforeEachCallback, AfterEachCallback {

    /** slf4j-simple's WARN/ERROR, java.util.logging's WARNING/SEVERE, and stack trace lines. */
    private static final Pattern BAD = Pattern.compile("^(\\S+ \\[[^]]*] (WARN|ERROR) |(WARNING|SEVERE): |\\s+at "
            + "[\\w$.]+\\(|Caused by: |Exception in thread )");
    /**
     * Test-harness noise, not behaviour: Tomcat's class loader checks when a test stops a server whose
     * scheduler the test still owns (it closes it afterwards), and the JVM flags those checks want. Tomcat's own
     * idle worker ({@code http-nio-...-exec-N}, waiting in its task queue) is sometimes named too, with the web
     * application's context class loader still set on it; Tomcat stops that pool itself a moment later.
     */
    private static final Pattern HARNESS = Pattern.compile("WARNING: (You need to add \"--add-opens|The web "
            + "application \\[[^]]*] appears to have started a thread named \\[(handoff-|Thread-|stream-client|"
            + "http-nio-[^]]*-exec-\\d+]))");
    /** The first line of a log record (slf4j-simple's time, java.util.logging's date or level): ends a trace. */
    private static final Pattern RECORD = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[|[A-Z][a-z]{2} \\d\\d?, "
            + "\\d{4} |[A-Z]+: )");
    private static final Tee TEE = new Tee(System.err);
    private static final List<Pattern> expected = new ArrayList<>();
    /** The previous test's expectations: the lines of a stream's end can arrive just after its test returned. */
    private static final List<Pattern> previous = new ArrayList<>();

    static {
        System.setErr(new PrintStream(TEE, true, StandardCharsets.UTF_8));
    }

    /** Lines matching {@code regex} are expected in the current test. */
    public static synchronized void expect(String regex) {
        expected.add(Pattern.compile(regex));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        synchronized (LogWatch.class) {
            previous.clear();
            previous.addAll(expected);
            expected.clear();
        }
        TEE.start();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        String written = TEE.stop();
        List<String> unexpected = new ArrayList<>();
        boolean inExpectedTrace = false;
        for (String line : written.split("\n")) {
            if (!BAD.matcher(line).find()) {
                if (RECORD.matcher(line).find()) {
                    inExpectedTrace = false;
                }
                continue;
            }
            boolean trace = line.startsWith("\t") || line.startsWith(" ") || line.startsWith("Caused by: ");
            if (trace && inExpectedTrace) {
                continue;
            }
            if (HARNESS.matcher(line).find() || isExpected(line)) {
                inExpectedTrace = true;
                continue;
            }
            unexpected.add(line);
        }
        if (!unexpected.isEmpty()) {
            throw new AssertionError("unexpected warnings, errors or stack traces in the log ("
                    + unexpected.size() + " lines):\n  " + String.join("\n  ", unexpected.subList(0,
                    Math.min(20, unexpected.size()))));
        }
    }

    private static synchronized boolean isExpected(String line) {
        return expected.stream().anyMatch(p -> p.matcher(line).find())
                || previous.stream().anyMatch(p -> p.matcher(line).find());
    }

    /** Writes through to the real stream, and keeps a copy while a test runs. */
    private static final class Tee extends OutputStream {
        private final PrintStream out;
        private ByteArrayOutputStream copy;

        Tee(PrintStream out) {
            this.out = out;
        }

        synchronized void start() {
            copy = new ByteArrayOutputStream();
        }

        synchronized String stop() {
            String s = copy == null ? "" : copy.toString(StandardCharsets.UTF_8);
            copy = null;
            return s;
        }

        @Override
        public synchronized void write(int b) {
            out.write(b);
            if (copy != null) {
                copy.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            out.write(b, off, len);
            if (copy != null) {
                copy.write(b, off, len);
            }
        }

        @Override
        public synchronized void flush() {
            out.flush();
        }
    }
}
