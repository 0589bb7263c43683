package dev.handoff.bench.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Event data of the contract: a first line of JSON, {@code {"seq":<n>,"pad":"..."}}, padded to about the asked
 * size, followed, when the publish request had a body, by a newline and that body verbatim. One sequence per
 * server process, so a client checks order and completeness from the data alone.
 */
public final class Payload {

    private static final AtomicLong SEQ = new AtomicLong();

    private Payload() {
    }

    /** Reserves {@code count} sequence numbers and returns the first. */
    public static long reserve(int count) {
        return SEQ.getAndAdd(count) + 1;
    }

    public static String data(long seq, int size, String body) {
        String head = "{\"seq\":" + seq + ",\"pad\":\"";
        int pad = Math.max(0, size - head.length() - 2);
        StringBuilder data = new StringBuilder(size + (body == null ? 0 : body.length() + 1)).append(head);
        data.append("x".repeat(pad)).append("\"}");
        if (body != null && !body.isEmpty()) {
            data.append('\n').append(body);
        }
        return data.toString();
    }
}
