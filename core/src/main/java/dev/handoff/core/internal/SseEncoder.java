package dev.handoff.core.internal;

import dev.handoff.core.SseStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Wire framing for Server-Sent Events, per the WHATWG HTML standard, section "Server-sent events",
 * "Parsing an event stream".
 *
 * <p>A frame is a sequence of {@code field: value} lines ended by LF, then an empty line. The encoder
 * always writes one space after the colon, so a value that starts with a space keeps it (the parser
 * strips exactly one). Multi-line data and comments become one line each; CR, LF and CRLF in them
 * are all line breaks, because the parser treats them so. Fields that must be one line (id, event) are
 * validated instead of split, so that a value can never inject a field or a frame.
 */
public final class SseEncoder {

    /**
     * The smallest heartbeat, an empty comment line, in two parts written a scheduler tick apart (see
     * {@link Connection}): a colon opens the comment line, a line feed ends it.
     */
    public static final byte[] HEARTBEAT_OPEN = {':'};
    public static final byte[] HEARTBEAT_CLOSE = {'\n'};

    private SseEncoder() {
    }

    public static byte[] encode(String id, String event, String data, Duration retry, String comment) {
        StringBuilder sb = new StringBuilder(32 + (data == null ? 0 : data.length()));
        if (comment != null) {
            appendLines(sb, "", comment);
        }
        if (id != null) {
            sb.append("id: ").append(id).append('\n');
        }
        if (event != null) {
            sb.append("event: ").append(event).append('\n');
        }
        if (retry != null) {
            sb.append("retry: ").append(retry.toMillis()).append('\n');
        }
        if (data != null) {
            appendLines(sb, "data", data);
        }
        if (id != null || event != null || retry != null || data != null) {
            sb.append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A frame with an {@code id} line in front of an encoded event that has none (field order does not
     * matter within a frame): how a registry numbers an event without encoding it again.
     */
    public static byte[] prependId(String id, byte[] frame) {
        byte[] line = ("id: " + id + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[line.length + frame.length];
        System.arraycopy(line, 0, out, 0, line.length);
        System.arraycopy(frame, 0, out, line.length, frame.length);
        return out;
    }

    /** Encodes a comment frame for {@link SseStream#comment(String)}. */
    static byte[] comment(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 4);
        appendLines(sb, "", text);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void appendLines(StringBuilder sb, String field, String value) {
        int start = 0;
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n') {
                appendLine(sb, field, value, start, i);
                if (c == '\r' && i + 1 < n && value.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        appendLine(sb, field, value, start, n);
    }

    private static void appendLine(StringBuilder sb, String field, String value, int from, int to) {
        sb.append(field).append(':');
        if (to > from) {
            sb.append(' ').append(value, from, to);
        }
        sb.append('\n');
    }

    /**
     * The rule for the {@code id} and {@code event} fields: one line without NUL. CR or LF would start a new
     * field (an injected frame); a client ignores an id with NUL, and a name with NUL reaches the client's
     * listeners as a name nobody can register for, so both refuse it.
     */
    public static String requireSingleLine(String field, String value) {
        if (value == null) {
            throw new NullPointerException("SSE " + field + " must not be null");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n') {
                throw new IllegalArgumentException("SSE " + field + " must not contain CR or LF (it would start a new field): "
                        + quote(value));
            }
            if (c == '\0') {
                throw new IllegalArgumentException("SSE " + field + " must not contain NUL (clients drop or mangle it): "
                        + quote(value));
            }
        }
        return value;
    }

    public static String quote(String value) {
        String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return '"' + shown.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0") + '"';
    }
}
