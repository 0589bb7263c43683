package dev.handoff.core;

import java.util.Objects;

/**
 * How a stream ended: one {@link CloseReason} and a human-readable detail (for example the I/O error's
 * message, or "queue over 65536 bytes").
 *
 * @param reason why the stream ended
 * @param detail what exactly happened, never null (may be empty)
 */
public record CloseStatus(CloseReason reason, String detail) {

    public CloseStatus {
        Objects.requireNonNull(reason, "reason");
        detail = detail == null ? "" : detail;
    }

    @Override
    public String toString() {
        return detail.isEmpty() ? reason.name() : reason + " (" + detail + ")";
    }
}
