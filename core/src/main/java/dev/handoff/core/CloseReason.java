package dev.handoff.core;

/**
 * Why a stream ended. Every stream ends with exactly one reason, decided once; see {@link CloseStatus}.
 */
public enum CloseReason {
    /** The application closed the stream; everything it sent was handed to the container. */
    COMPLETED,
    /** The client went away: a write failed or the container reported an I/O error. */
    CLIENT_GONE,
    /** The application sent nothing for longer than the stream's idle timeout. */
    IDLE_TIMEOUT,
    /** The client did not take bytes fast enough: its queue overflowed, or no write progressed for the write timeout. */
    SLOW_CONSUMER,
    /** The server or the application is shutting down. */
    SHUTDOWN,
    /** The request was {@code HEAD}: the headers were sent and the stream ended at once, as HTTP requires. */
    HEAD_REQUEST,
    /** An unexpected error in the application, the container or Handoff; the detail and the log say which. */
    ERROR
}
