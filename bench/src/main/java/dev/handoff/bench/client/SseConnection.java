package dev.handoff.bench.client;

import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One SSE connection of the load client: HTTP head, chunked framing and SSE lines parsed as bytes arrive,
 * keeping per event only its sequence number (from the first data line, {@code {"seq":<n>,...}}) and the
 * time it was read. Owned by the client's loop thread; nothing here is thread-safe.
 */
final class SseConnection {

    enum Role {
        /** Reads everything; its events are measured. */
        HEALTHY,
        /** Reads the head, then never again: the server's buffers for it fill up. */
        STALLED,
        /** Closes as soon as the head arrived; the client opens another. */
        CHURN
    }

    private enum Framing {
        HEAD, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, RAW, DONE
    }

    private static final int HEAD_MAX = 8192;
    /** Bytes of each SSE line kept: enough for {@code data: {"seq":<19 digits>}}. */
    private static final int LINE_KEPT = 48;

    final int index;
    final Role role;
    SelectionKey key;

    // ---- HTTP head
    private Framing framing = Framing.HEAD;
    private final byte[] head = new byte[HEAD_MAX];
    private int headLength;
    int status = -1;

    // ---- chunked framing
    private long chunkLeft;
    private boolean chunkExtension;

    // ---- SSE lines
    private final byte[] line = new byte[LINE_KEPT];
    private int lineLength;
    private long eventSeq = -1;

    // ---- events read: sequence numbers and read times, in arrival order
    long[] seqs = new long[16];
    long[] nanos = new long[16];
    int count;
    long maxSeq = -1;

    SseConnection(int index, Role role) {
        this.index = index;
        this.role = role;
    }

    boolean headDone() {
        return framing != Framing.HEAD;
    }

    /**
     * Parses {@code length} bytes read at {@code now}.
     *
     * @return true if this call completed the head
     */
    boolean feed(byte[] bytes, int offset, int length, long now) {
        int at = offset;
        int end = offset + length;
        boolean headCompleted = false;
        while (at < end) {
            switch (framing) {
                case HEAD -> {
                    while (at < end && framing == Framing.HEAD) {
                        if (headLength == HEAD_MAX) {
                            throw new IllegalStateException("response head over " + HEAD_MAX + " bytes");
                        }
                        head[headLength++] = bytes[at++];
                        if (headLength >= 4 && head[headLength - 1] == '\n' && head[headLength - 2] == '\r'
                                && head[headLength - 3] == '\n' && head[headLength - 4] == '\r') {
                            parseHead();
                            headCompleted = true;
                        }
                    }
                }
                case CHUNK_SIZE -> {
                    byte b = bytes[at++];
                    if (b == '\n') {
                        framing = chunkLeft == 0 ? Framing.DONE : Framing.CHUNK_DATA;
                        chunkExtension = false;
                    } else if (b == ';') {
                        chunkExtension = true;
                    } else if (b != '\r' && !chunkExtension) {
                        chunkLeft = chunkLeft * 16 + Character.digit(b, 16);
                    }
                }
                case CHUNK_DATA -> {
                    int n = (int) Math.min(end - at, chunkLeft);
                    sse(bytes, at, n, now);
                    at += n;
                    chunkLeft -= n;
                    if (chunkLeft == 0) {
                        framing = Framing.CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (bytes[at++] == '\n') {
                        framing = Framing.CHUNK_SIZE;
                    }
                }
                case RAW -> {
                    sse(bytes, at, end - at, now);
                    at = end;
                }
                case DONE -> at = end;
            }
        }
        return headCompleted;
    }

    private void parseHead() {
        String text = new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n");
        String[] statusLine = lines[0].split(" ");
        status = statusLine.length > 1 ? Integer.parseInt(statusLine[1]) : -1;
        boolean chunked = false;
        for (String h : lines) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        framing = chunked ? Framing.CHUNK_SIZE : Framing.RAW;
        chunkLeft = 0;
    }

    /** SSE line parsing over body bytes: only the start of each line is kept. */
    private void sse(byte[] bytes, int offset, int length, long now) {
        for (int i = offset, end = offset + length; i < end; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                endOfLine(now);
                lineLength = 0;
            } else {
                if (lineLength < LINE_KEPT) {
                    line[lineLength] = b;
                }
                lineLength++;
            }
        }
    }

    private void endOfLine(long now) {
        int length = lineLength > 0 && lineLength <= LINE_KEPT && line[lineLength - 1] == '\r' ? lineLength - 1
                : lineLength;
        if (length == 0) {
            if (eventSeq >= 0) {
                record(eventSeq, now);
                eventSeq = -1;
            }
            return;
        }
        if (eventSeq < 0 && length > 5 && line[0] == 'd' && line[1] == 'a' && line[2] == 't' && line[3] == 'a'
                && line[4] == ':') {
            eventSeq = seqOf(Math.min(length, LINE_KEPT));
        }
    }

    /** The number after {@code "seq":} in the kept part of the line, or -1. */
    private long seqOf(int kept) {
        int at = 5;
        if (at < kept && line[at] == ' ') {
            at++;
        }
        byte[] prefix = {'{', '"', 's', 'e', 'q', '"', ':'};
        for (byte p : prefix) {
            if (at >= kept || line[at++] != p) {
                return -1;
            }
        }
        long seq = 0;
        int digits = 0;
        while (at < kept && line[at] >= '0' && line[at] <= '9') {
            seq = seq * 10 + (line[at++] - '0');
            digits++;
        }
        return digits == 0 ? -1 : seq;
    }

    private void record(long seq, long now) {
        if (count == seqs.length) {
            seqs = Arrays.copyOf(seqs, count * 2);
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        seqs[count] = seq;
        nanos[count] = now;
        count++;
        if (seq > maxSeq) {
            maxSeq = seq;
        }
    }

    /** Forgets the events read so far (kept: the highest sequence number seen). */
    void clearEvents() {
        count = 0;
        if (seqs.length > 1024) {
            seqs = new long[16];
            nanos = new long[16];
        }
    }
}
