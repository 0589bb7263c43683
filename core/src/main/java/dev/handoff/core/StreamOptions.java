package dev.handoff.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How one stream behaves: its queue bound and overflow policy, heartbeat, time-outs, and the scheduler
 * that drives its timers. Immutable; each {@code with...} method returns a copy.
 *
 * <p>{@link HandoffFilter} holds the defaults for its requests (from init parameters or its
 * constructor); a handler can change them for one stream with {@link Handoff#options(java.util.function.UnaryOperator)}.
 *
 * <table>
 *   <caption>Settings and defaults</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>maxQueuedBytes</td><td>64 KiB</td><td>bytes written but not yet taken by the container</td></tr>
 *   <tr><td>overflow</td><td>DISCONNECT</td><td>what happens past the bound</td></tr>
 *   <tr><td>heartbeat</td><td>15 s</td><td>send a heartbeat after this long without a write; zero turns it off</td></tr>
 *   <tr><td>idleTimeout</td><td>off</td><td>close when the application sent nothing for this long</td></tr>
 *   <tr><td>writeTimeout</td><td>30 s</td><td>close as a slow consumer when queued bytes made no progress this long</td></tr>
 *   <tr><td>maxLastEventIdLength</td><td>256</td><td>longest accepted {@code Last-Event-ID}, in characters</td></tr>
 *   <tr><td>minBodyRate</td><td>1 KiB/s over 10 s</td><td>slowest request body accepted (408 below); 0 turns it off</td></tr>
 *   <tr><td>socketSendBuffer</td><td>64 KiB</td><td>the kernel's send buffer for the stream's connection (HTTP/1 on
 *       Tomcat and Jetty); 0 leaves the system's, which grows to megabytes</td></tr>
 * </table>
 */
public final class StreamOptions {

    /** The default of {@link #socketSendBuffer()}: 64 KiB (Linux then reserves twice that for the socket). */
    public static final int DEFAULT_SOCKET_SEND_BUFFER = 64 * 1024;

    private static final StreamOptions DEFAULTS = new StreamOptions(64 * 1024, OverflowPolicy.DISCONNECT,
            Duration.ofSeconds(15), null, Duration.ZERO, Duration.ofSeconds(30), 256, null, 1024, Duration.ofSeconds(10),
            DEFAULT_SOCKET_SEND_BUFFER);

    private final int maxQueuedBytes;
    private final OverflowPolicy overflow;
    private final Duration heartbeat;
    private final byte[] heartbeatFrame;
    private final Duration idleTimeout;
    private final Duration writeTimeout;
    private final int maxLastEventIdLength;
    private final StreamScheduler scheduler;
    private final long minBodyRate;
    private final Duration minBodyRateWindow;
    private final int socketSendBuffer;

    private StreamOptions(int maxQueuedBytes, OverflowPolicy overflow, Duration heartbeat, byte[] heartbeatFrame,
            Duration idleTimeout, Duration writeTimeout, int maxLastEventIdLength, StreamScheduler scheduler,
            long minBodyRate, Duration minBodyRateWindow, int socketSendBuffer) {
        this.maxQueuedBytes = maxQueuedBytes;
        this.overflow = overflow;
        this.heartbeat = heartbeat;
        this.heartbeatFrame = heartbeatFrame;
        this.idleTimeout = idleTimeout;
        this.writeTimeout = writeTimeout;
        this.maxLastEventIdLength = maxLastEventIdLength;
        this.scheduler = scheduler;
        this.minBodyRate = minBodyRate;
        this.minBodyRateWindow = minBodyRateWindow;
        this.socketSendBuffer = socketSendBuffer;
    }

    /** The defaults listed in the class description. */
    public static StreamOptions defaults() {
        return DEFAULTS;
    }

    public int maxQueuedBytes() {
        return maxQueuedBytes;
    }

    public OverflowPolicy overflow() {
        return overflow;
    }

    public Duration heartbeat() {
        return heartbeat;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration writeTimeout() {
        return writeTimeout;
    }

    public int maxLastEventIdLength() {
        return maxLastEventIdLength;
    }

    /** The slowest request body accepted, in bytes per second while Handoff waits for the client; 0 = no minimum. */
    public long minBodyRate() {
        return minBodyRate;
    }

    /** The span of waiting over which {@link #minBodyRate()} is measured. */
    public Duration minBodyRateWindow() {
        return minBodyRateWindow;
    }

    /** The scheduler for heartbeats and time-outs: the one given, or {@link StreamScheduler#shared()}. */
    public StreamScheduler scheduler() {
        return scheduler != null ? scheduler : StreamScheduler.shared();
    }

    /** The bytes a raw {@link ByteStream} sends as its heartbeat, or null (no heartbeat). SSE streams send a comment. */
    byte[] heartbeatFrame() {
        return heartbeatFrame;
    }

    /** Bound on bytes written but not yet taken by the container; at least 1. */
    public StreamOptions withMaxQueuedBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxQueuedBytes must be at least 1: " + bytes);
        }
        return new StreamOptions(bytes, overflow, heartbeat, heartbeatFrame, idleTimeout, writeTimeout,
                maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    public StreamOptions withOverflow(OverflowPolicy policy) {
        return new StreamOptions(maxQueuedBytes, Objects.requireNonNull(policy, "policy"), heartbeat, heartbeatFrame,
                idleTimeout, writeTimeout, maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /** Heartbeat interval; {@link Duration#ZERO} turns heartbeats off. A heartbeat is skipped when something was written within the interval. */
    public StreamOptions withHeartbeat(Duration interval) {
        return new StreamOptions(maxQueuedBytes, overflow, nonNegative("heartbeat", interval), heartbeatFrame,
                idleTimeout, writeTimeout, maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /**
     * The bytes a raw {@link ByteStream} writes as its heartbeat (for example {@code "\n"} for NDJSON,
     * which readers skip). Without one, raw streams send no heartbeat. SSE streams always send a comment.
     */
    public StreamOptions withHeartbeatFrame(byte[] frame) {
        byte[] copy = frame == null ? null : frame.clone();
        if (copy != null && copy.length == 0) {
            throw new IllegalArgumentException("heartbeat frame must not be empty");
        }
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, copy, idleTimeout, writeTimeout,
                maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /** Close with {@link CloseReason#IDLE_TIMEOUT} when the application wrote nothing for this long; zero turns it off. */
    public StreamOptions withIdleTimeout(Duration timeout) {
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, nonNegative("idleTimeout", timeout),
                writeTimeout, maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /**
     * Close with {@link CloseReason#SLOW_CONSUMER} when the container could take no bytes for this long
     * while some were waiting; zero turns it off (then only the queue bound protects memory).
     */
    public StreamOptions withWriteTimeout(Duration timeout) {
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, idleTimeout,
                nonNegative("writeTimeout", timeout), maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /** Longest {@code Last-Event-ID} accepted, in characters; a longer one is refused with 400. */
    public StreamOptions withMaxLastEventIdLength(int length) {
        if (length < 1) {
            throw new IllegalArgumentException("maxLastEventIdLength must be at least 1: " + length);
        }
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, idleTimeout, writeTimeout,
                length, scheduler, minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    /**
     * A request body ({@link Handoff#body}) must arrive at {@code bytesPerSecond} or more, measured over each
     * {@code window} of time spent waiting for the client (not time the application's subscriber spends
     * without asking for more); slower, it fails with 408 and the connection is closed. The idle time-out only
     * sees silence; this finds a client that keeps an upload alive with a byte now and then. 0 turns it off.
     */
    public StreamOptions withMinBodyRate(long bytesPerSecond, Duration window) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("minBodyRate must not be negative: " + bytesPerSecond);
        }
        Objects.requireNonNull(window, "window");
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("minBodyRate window must be positive: " + window);
        }
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, idleTimeout, writeTimeout,
                maxLastEventIdLength, scheduler, bytesPerSecond, window, socketSendBuffer);
    }

    /**
     * Caps the kernel's send buffer of the stream's connection ({@code SO_SNDBUF}) at {@code bytes}; 0 leaves the
     * system's. Linux grows an uncapped buffer to megabytes for a client that stops reading, so the stream's
     * queue only fills, and the {@linkplain #withWriteTimeout write time-out} only starts, once megabytes went
     * into the kernel for nobody, copied at the healthy streams' expense. Capped, a stalled reader shows within
     * about twice this many bytes. Applied on HTTP/1 connections on Tomcat and Jetty (an HTTP/2 connection
     * carries other streams; other containers are left alone); a raw stream that carries bulk data far away
     * (a proxy, a download) may want it larger or 0, since a connection moves at most about twice this per
     * round trip.
     */
    public StreamOptions withSocketSendBuffer(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("socketSendBuffer must not be negative: " + bytes);
        }
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, idleTimeout, writeTimeout,
                maxLastEventIdLength, scheduler, minBodyRate, minBodyRateWindow, bytes);
    }

    /** The cap on the connection's kernel send buffer, in bytes; 0 for the system's. */
    public int socketSendBuffer() {
        return socketSendBuffer;
    }

    /** The scheduler that drives heartbeats and time-outs for the stream. */
    public StreamOptions withScheduler(StreamScheduler scheduler) {
        return new StreamOptions(maxQueuedBytes, overflow, heartbeat, heartbeatFrame, idleTimeout, writeTimeout,
                maxLastEventIdLength, Objects.requireNonNull(scheduler, "scheduler"), minBodyRate, minBodyRateWindow,
                socketSendBuffer);
    }

    private static Duration nonNegative(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "StreamOptions[maxQueuedBytes=" + maxQueuedBytes + ", overflow=" + overflow + ", heartbeat=" + heartbeat
                + ", idleTimeout=" + idleTimeout + ", writeTimeout=" + writeTimeout + ", maxLastEventIdLength="
                + maxLastEventIdLength + ", minBodyRate=" + minBodyRate + " B/s over " + minBodyRateWindow
                + ", socketSendBuffer=" + socketSendBuffer + "]";
    }
}
