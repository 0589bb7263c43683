package dev.handoff.core;

import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.BodyReader;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.ConnectionHandle;
import dev.handoff.core.internal.DefaultByteStream;
import dev.handoff.core.internal.DefaultSseStream;
import dev.handoff.core.internal.Exchange;
import dev.handoff.core.internal.NoBody;
import dev.handoff.core.internal.ServletTransport;
import dev.handoff.core.internal.SseEncoder;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a request's connection off the container thread: the servlet equivalent of Rack's
 * {@code rack.hijack}. The handler calls one method, gets a stream handle, and returns; the container
 * thread goes back to its pool at once, and any thread may write to the handle from then on, without
 * blocking.
 *
 * <pre>{@code
 * // Partial mode: the handler set status and headers on the response; the handoff commits them.
 * response.setHeader("X-Task", id);
 * SseStream events = Handoff.from(request).sse();
 *
 * // Full mode: status and headers declared once; the handle cannot change them.
 * ByteStream rows = Handoff.from(request).respond(200).contentType("application/x-ndjson").stream();
 * }</pre>
 *
 * <p>{@link HandoffFilter} installs a {@code Handoff} on every request it sees, with its default
 * {@link StreamOptions}; {@link #from(ServletRequest)} finds it. Without the filter,
 * {@link #of(HttpServletRequest, HttpServletResponse)} works the same with the default options.
 *
 * <p>A handoff refuses, with a message that names the cause: a request whose filter chain does not
 * support async processing, a second handoff of the same request, a response already committed, and a
 * status that forbids a body (1xx, 204, 205, 304). A malformed {@code Last-Event-ID} is refused with
 * {@link HandoffRejectedException} (400) before anything is committed. The container's async time-out
 * is turned off: a stream's time-outs are Handoff's own ({@link StreamOptions}). A {@code HEAD} request
 * gets the headers and an empty body, and its stream ends at once with {@link CloseReason#HEAD_REQUEST}.
 *
 * <p>Not thread-safe: use it on the request thread, before returning.
 */
public final class Handoff {

    static {
        // First, before anything here can reach the internals that need it.
        ApiAccess.install(new InternalAccess());
    }

    private static final Logger log = LoggerFactory.getLogger(Handoff.class);

    /** The request attribute under which {@link HandoffFilter} installs the request's {@code Handoff}. */
    public static final String ATTRIBUTE = Handoff.class.getName();

    /** Set on a request once it was handed off; holds the stream id. */
    static final String HANDED_OFF_ATTRIBUTE = Handoff.class.getName() + ".streamId";

    private static final String LAST_EVENT_ID = "Last-Event-ID";

    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final Consumer<ConnectionHandle> onOpen;
    private StreamOptions options;
    private Supplier<AsyncContext> asyncStarter;
    /** The async cycle, once the body or the response started it. */
    private Exchange exchange;
    private BodyReader body;

    Handoff(HttpServletRequest request, HttpServletResponse response, StreamOptions options,
            Consumer<ConnectionHandle> onOpen) {
        this.request = request;
        this.response = response;
        this.options = options;
        this.onOpen = onOpen;
    }

    /**
     * The {@code Handoff} that {@link HandoffFilter} installed on this request.
     *
     * @throws IllegalStateException if the filter did not see the request
     */
    public static Handoff from(ServletRequest request) {
        Object h = request.getAttribute(ATTRIBUTE);
        if (h instanceof Handoff handoff) {
            return handoff;
        }
        String path = request instanceof HttpServletRequest http ? " " + http.getRequestURI() : "";
        throw new IllegalStateException("HandoffFilter did not see this request" + path + ": register it for this "
                + "path (asyncSupported), or use Handoff.of(request, response)");
    }

    /** True where {@link HandoffFilter} installed a {@code Handoff} on this request (Rack's {@code rack.hijack?}). */
    public static boolean isAvailable(ServletRequest request) {
        return request.getAttribute(ATTRIBUTE) instanceof Handoff;
    }

    /**
     * The request's {@code Handoff}: the filter's where it ran, otherwise one with
     * {@link StreamOptions#defaults()}, made on the first call and installed on the request, so that later
     * calls (and {@link #from}) get the same one. Works without {@link HandoffFilter}.
     */
    public static Handoff of(HttpServletRequest request, HttpServletResponse response) {
        Object h = request.getAttribute(ATTRIBUTE);
        if (h instanceof Handoff handoff) {
            return handoff;
        }
        Handoff handoff = new Handoff(request, response, StreamOptions.defaults(), null);
        request.setAttribute(ATTRIBUTE, handoff);
        return handoff;
    }

    /** Changes the options of the stream this handoff opens, for example {@code o -> o.withHeartbeat(ofSeconds(5))}. */
    public Handoff options(UnaryOperator<StreamOptions> change) {
        this.options = Objects.requireNonNull(change.apply(options), "options");
        return this;
    }

    /**
     * For frameworks that track async processing themselves, such as Spring MVC's {@code WebAsyncManager}:
     * when the handoff proceeds (after its checks, before anything is committed), {@code starter} starts
     * async processing on this request through the framework and returns the {@link AsyncContext}; the
     * handoff then uses that context instead of calling {@code startAsync()} itself.
     */
    public Handoff startAsyncWith(Supplier<AsyncContext> starter) {
        this.asyncStarter = Objects.requireNonNull(starter, "starter");
        return this;
    }

    /** The options the stream will get. */
    public StreamOptions options() {
        return options;
    }

    /** The request this handoff belongs to. */
    HttpServletRequest request() {
        return request;
    }

    /** Whether this request can be handed off: every filter and servlet on its path supports async. */
    public boolean isSupported() {
        return request.isAsyncSupported() && !request.isAsyncStarted();
    }

    /** Whether this request was handed off already. */
    public boolean isHandedOff() {
        return request.getAttribute(HANDED_OFF_ATTRIBUTE) != null;
    }

    /**
     * Partial mode, SSE: commits the status and headers the handler set, adding
     * {@code Content-Type: text/event-stream}, {@code Cache-Control: no-cache} and
     * {@code X-Accel-Buffering: no} where absent, and returns the stream.
     */
    public SseStream sse() {
        return openSse(null);
    }

    /** Partial mode, raw bytes: commits the status and headers the handler set and returns the stream. */
    public ByteStream stream() {
        return openBytes(null);
    }

    /**
     * An SSE stream made before its request is handed off, for frameworks whose handlers return a stream
     * (Spring MVC's return values; the shape of Spring's {@code ResponseBodyEmitter}): what is sent to it is
     * queued, up to {@code maxKeptBytes} (a send that does not fit fails its stage with
     * {@link QueueFullException}; the stream stays), and goes out first once {@link #attach(SseStream)} hands
     * a request off onto it. A close waits for that; an abort ends it, and the request that takes it later is
     * answered with an empty (or, for an abort, cut) stream. Its {@link StreamHandle#id()} is final from the
     * start. At attach the stream takes that handoff's {@link #options()}.
     */
    public static SseStream unattachedSse(int maxKeptBytes) {
        return new DefaultSseStream(unattachedConnection("unattached SSE stream", maxKeptBytes,
                SseEncoder.HEARTBEAT_CLOSE));
    }

    /**
     * A raw stream made before its request is handed off, as {@link #unattachedSse}; it sends
     * {@code contentType} where the response has none when {@link #attach(ByteStream)} takes it.
     */
    public static ByteStream unattachedStream(String contentType, int maxKeptBytes) {
        return new DefaultByteStream(unattachedConnection("unattached stream", maxKeptBytes, null),
                Objects.requireNonNull(contentType, "contentType"));
    }

    /** True for a stream from {@link #unattachedSse} or {@link #unattachedStream} that no request has taken yet. */
    public static boolean isUnattached(StreamHandle stream) {
        return stream instanceof ConnectionHandle handle && handle.isUnattached();
    }

    /**
     * Partial mode onto a stream made earlier with {@link #unattachedSse}: hands this request off as
     * {@link #sse()} does, and the stream's kept sends go out first.
     *
     * @throws IllegalArgumentException if the stream was not made by {@link #unattachedSse}
     * @throws IllegalStateException if a request took it already, or as {@link #sse()}; a handoff refused by its
     *         checks (an invalid {@code Last-Event-ID}, a committed response) leaves the stream unattached, for
     *         the caller to end ({@code abort}, as the starter does) or hand off elsewhere
     */
    public SseStream attach(SseStream unattached) {
        return openSse(null, unattached(unattached, DefaultSseStream.class), null);
    }

    /** Partial mode onto a stream made earlier with {@link #unattachedStream}; see {@link #attach(SseStream)}. */
    public ByteStream attach(ByteStream unattached) {
        DefaultByteStream stream = unattached(unattached, DefaultByteStream.class);
        if (response.getContentType() == null && !response.isCommitted()) {
            response.setContentType(stream.contentType());
        }
        return openBytes(null, stream);
    }

    private static Connection unattachedConnection(String description, int maxKeptBytes, byte[] heartbeatClose) {
        // Kept writes that do not fit are refused, never a reason to end a stream nobody reads yet; no timers
        // run before a request takes it.
        StreamOptions keeping = StreamOptions.defaults().withMaxQueuedBytes(maxKeptBytes)
                .withOverflow(OverflowPolicy.FAIL_WRITE).withHeartbeat(Duration.ZERO).withIdleTimeout(Duration.ZERO)
                .withWriteTimeout(Duration.ZERO);
        return new Connection(description, keeping, null, heartbeatClose, System::nanoTime);
    }

    /**
     * Checks that {@code stream} is an unattached stream of this kind that no request took. It is taken only in
     * {@link #open}, after every check of the handoff, so that a refused handoff leaves it unattached.
     */
    private static <T extends ConnectionHandle> T unattached(StreamHandle stream, Class<T> kind) {
        if (!kind.isInstance(stream)) {
            throw new IllegalArgumentException("attach takes a stream made by Handoff.unattached"
                    + (kind == DefaultSseStream.class ? "Sse" : "Stream") + "(...), not " + stream);
        }
        T handle = kind.cast(stream);
        if (!handle.isUnattached()) {
            throw new IllegalStateException("this stream was already taken by a request (" + stream + "): a stream "
                    + "has one response");
        }
        return handle;
    }

    /** The idle time-out of {@link #body(long)}: a client that sends nothing for this long is answered 408. */
    public static final Duration DEFAULT_BODY_IDLE_TIMEOUT = Duration.ofSeconds(30);

    /** The request body, read as it arrives, at most {@code maxBytes}; see {@link #body(long, Duration)}. */
    public RequestBody body(long maxBytes) {
        return body(maxBytes, DEFAULT_BODY_IDLE_TIMEOUT);
    }

    /**
     * Takes the request body, to be read as it arrives through a non-blocking {@code ReadListener}, driven
     * by the demand of its subscriber. A declared {@code Content-Length} over {@code maxBytes} is refused
     * here, before a byte is read ({@link HandoffRejectedException}, 413); a chunked body that grows past
     * it, or a client that sends nothing for {@code idleTimeout} (zero: no time-out) while the subscriber
     * waits, fails the body with a {@link RequestBodyException}, and the request is answered 413 or 408
     * unless the application has started its response. Works with {@link #sse()} or {@link #stream()} on
     * the same request: stream progress back while the body arrives.
     *
     * <p>The application answers the request (for example with {@code respond(201)...stream()}), unless
     * the body broke a rule; until then the request stays open.
     *
     * @throws IllegalStateException if the body was taken already, or read with {@code getReader()}
     */
    public RequestBody body(long maxBytes, Duration idleTimeout) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
        }
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (body != null) {
            throw new IllegalStateException("the request body was already taken: a request has one body");
        }
        long length = request.getContentLengthLong();
        if (length > maxBytes) {
            throw new HandoffRejectedException(413, "request body of " + length + " bytes is over this endpoint's "
                    + "limit of " + maxBytes + " bytes");
        }
        requireCanStartAsync("take the body through Handoff before anything calls startAsync()");
        ServletInputStream in;
        try {
            in = request.getInputStream();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("getReader() was already called on this request: take the body "
                    + "before anything reads it", e);
        } catch (IOException e) {
            throw new UncheckedIOException("the request's input stream is not available", e);
        }
        Exchange ex = exchange();
        BodyReader reader = new BodyReader(describe(), in, length, maxBytes, idleTimeout.toNanos(),
                options.minBodyRate(), options.minBodyRateWindow().toNanos(), BodyReader.BUFFER_SIZE,
                options.scheduler(), options.scheduler()::nanoTime, this::answerBrokenBody, this::endBrokenBody);
        body = reader;
        ex.attach(reader);
        in.setReadListener(reader);
        return reader;
    }

    /**
     * Starts async processing without committing anything, for work that answers the request later from
     * another thread (the proxy waits for its backend): the container thread may return at once.
     */
    void beginAsync() {
        requireCanStartAsync("forward the request before anything calls startAsync()");
        exchange();
    }

    /** Commits the status and headers set on the response, with no body, and ends the exchange (proxied 204/304/HEAD). */
    void completeWithoutBody() {
        try {
            response.flushBuffer();
        } catch (IOException e) {
            // The client left; the exchange ends either way.
        } finally {
            exchange().complete();
        }
    }

    /** The response, for the proxy's refusals and errors before anything was committed. */
    HttpServletResponse response() {
        return response;
    }

    /**
     * A body broke a rule (too large, idle): answer with its status where the application has not started
     * its own response, and close the connection, since the rest of the body is unread.
     */
    private void answerBrokenBody(RequestBodyException e) {
        Exchange ex = exchange;
        // The exchange first: once it completed, the container recycles the request.
        if (ex == null || ex.isCompleted() || isHandedOff()) {
            return;
        }
        answerUnlessTheContainerDid(ex, e);
    }

    /**
     * The container reported the body broken (cut short, malformed, reset, its own idle time-out): the
     * request ends now, whatever the application does with the error. Nothing committed yet: answered with
     * the exception's status and message, and the connection closed. A response already streaming: cut.
     */
    private void endBrokenBody(RequestBodyException e) {
        Exchange ex = exchange;
        if (ex == null || ex.isCompleted()) {
            return;
        }
        CloseReason reason = e.status() == 408 ? CloseReason.IDLE_TIMEOUT : CloseReason.CLIENT_GONE;
        if (ex.abortStream(reason, e.getMessage())) {
            return; // The stream logs its end.
        }
        String what = describe(); // Before the exchange ends: the container recycles the request then.
        boolean ours = answerUnlessTheContainerDid(ex, e);
        log.info("request body of {}: {}; {}", what, e.getMessage(), ours ? "answered " + e.status()
                : "answered by the container");
    }

    /**
     * Answers with the body's status and message, unless the response already looks committed: then the
     * container took the answer over (Tomcat's {@code InputBuffer} calls {@code sendError(400)}, or 408 on a
     * socket time-out, when a read fails, which suspends the response), and completing lets it send that.
     * Nothing else writes a handed-off request's response before Handoff does. Returns true if we answered.
     */
    private boolean answerUnlessTheContainerDid(Exchange ex, RequestBodyException e) {
        if (response.isCommitted()) {
            ex.complete();
            return false;
        }
        try {
            // The rest of the body is unread or unreadable: an HTTP/1.1 connection cannot carry another request.
            if (HandoffRejectedException.isHttp1(request)) {
                response.setHeader("Connection", "close");
            }
            new HandoffRejectedException(e.status(), e.getMessage()).respond(request, response);
        } catch (IOException | RuntimeException failed) {
            // The client may be gone already; the exchange ends either way.
        } finally {
            ex.complete();
        }
        return true;
    }

    /** Full mode: declare the status and headers, then open the stream from the returned head. */
    public ResponseHead respond(int status) {
        return new ResponseHead(this, status);
    }

    SseStream openSse(ResponseHead head) {
        return openSse(head, null, null);
    }

    /**
     * Partial-mode SSE for a registry: {@code beforeCommit} runs once the stream exists and before its
     * headers are committed, so that the client sees the response start only once it is subscribed. Reached
     * through {@link ApiAccess.Api#openSse}.
     */
    DefaultSseStream sse(DefaultSseStream unattached, Consumer<DefaultSseStream> beforeCommit) {
        return openSse(null, unattached == null ? null : unattached(unattached, DefaultSseStream.class),
                beforeCommit);
    }

    /** Opens an SSE stream: a new one, or {@code taken} (an unattached stream, taken in {@link #open}). */
    private DefaultSseStream openSse(ResponseHead head, DefaultSseStream taken,
            Consumer<DefaultSseStream> beforeCommit) {
        checkCanHandOff(head);
        String lastEventId = validLastEventId();
        if (head != null) {
            head.applyTo(response);
        }
        String type = response.getContentType();
        if (type == null) {
            response.setContentType("text/event-stream");
        } else if (!type.regionMatches(true, 0, "text/event-stream", 0, "text/event-stream".length())) {
            throw new IllegalStateException("the response's Content-Type is " + type + ", but an SSE stream is "
                    + "text/event-stream: remove it, or hand off with stream() for other content");
        }
        response.setCharacterEncoding("UTF-8");
        setIfAbsent("Cache-Control", "no-cache");
        setIfAbsent("X-Accel-Buffering", "no");
        if (taken != null) {
            taken.takenWith(lastEventId);
        }
        return opened(open(SseEncoder.HEARTBEAT_OPEN, SseEncoder.HEARTBEAT_CLOSE, taken,
                connection -> new DefaultSseStream(connection, lastEventId), beforeCommit));
    }

    ByteStream openBytes(ResponseHead head) {
        return openBytes(head, null);
    }

    private ByteStream openBytes(ResponseHead head, DefaultByteStream taken) {
        checkCanHandOff(head);
        if (head != null) {
            head.applyTo(response);
        }
        if (response.getContentType() == null) {
            response.setContentType("application/octet-stream");
        }
        return opened(open(options.heartbeatFrame(), null, taken, DefaultByteStream::new, null));
    }

    private <T extends ConnectionHandle> T opened(T handle) {
        if (onOpen != null && handle.isOpen()) {
            onOpen.accept(handle);
        }
        return handle;
    }

    private void checkCanHandOff(ResponseHead head) {
        Object previous = request.getAttribute(HANDED_OFF_ATTRIBUTE);
        if (previous != null) {
            throw new IllegalStateException("this request was already handed off (stream " + previous
                    + "): a request has one response, so it can be handed off once");
        }
        if (response.isCommitted()) {
            throw new IllegalStateException("the response is already committed (status " + response.getStatus()
                    + " was sent): hand off before anything writes to or flushes the response");
        }
        requireCanStartAsync("hand off instead of calling startAsync()");
        if (head == null) {
            requireBodyAllowed(response.getStatus());
        }
    }

    /**
     * Checks that this handoff may start async processing: nobody else started it, and every filter and the
     * servlet on the path support it. Nothing to check once the handoff started it itself.
     */
    private void requireCanStartAsync(String instead) {
        if (exchange != null) {
            return;
        }
        if (request.isAsyncStarted()) {
            throw new IllegalStateException("async processing was already started on this request by another "
                    + "component: " + instead);
        }
        if (!request.isAsyncSupported()) {
            throw asyncNotSupported();
        }
    }

    /** The statuses whose responses have no body ({@link NoBody}) cannot carry a stream. */
    static void requireBodyAllowed(int status) {
        if (NoBody.forStatus(status)) {
            throw new IllegalStateException("status " + status + " forbids a response body, so it cannot carry a "
                    + "stream: hand off with a status that allows one (usually 200)");
        }
    }

    private IllegalStateException asyncNotSupported() {
        // The container's own refusal names the filter or servlet without async support; ask for it.
        String containerSays;
        try {
            request.startAsync(request, response).complete();
            containerSays = "(the container started async processing anyway)";
        } catch (IllegalStateException e) {
            containerSays = e.getMessage();
        }
        HttpServletMapping mapping = request.getHttpServletMapping();
        String servlet = mapping != null && mapping.getServletName() != null ? " (servlet '" + mapping.getServletName()
                + "')" : "";
        return new IllegalStateException("cannot hand off " + request.getMethod() + " " + request.getRequestURI()
                + servlet + ": the request does not support async processing. Every filter and the servlet on its "
                + "path must be asyncSupported (@WebServlet/@WebFilter(asyncSupported = true), "
                + "<async-supported>true</async-supported>, or setAsyncSupported(true) on the registration). "
                + "The container says: " + containerSays);
    }

    private String validLastEventId() {
        String raw = request.getHeader(LAST_EVENT_ID);
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        int max = options.maxLastEventIdLength();
        if (raw.length() > 4 * max) {
            throw rejected("is longer than " + max + " characters (" + raw.length() + " bytes)");
        }
        String id = decodeUtf8(raw);
        if (id.length() > max) {
            throw rejected("is longer than " + max + " characters (" + id.length() + ")");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw rejected(String.format("contains the control character U+%04X at index %d", (int) c, i));
            }
        }
        return id;
    }

    /** Containers decode header bytes as ISO-8859-1; EventSource sends the id as UTF-8. */
    private String decodeUtf8(String latin1) {
        byte[] bytes = new byte[latin1.length()];
        for (int i = 0; i < latin1.length(); i++) {
            char c = latin1.charAt(i);
            if (c > 0xff) {
                return latin1; // The container decoded it already.
            }
            bytes[i] = (byte) c;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw rejected("is not valid UTF-8");
        }
    }

    private static HandoffRejectedException rejected(String problem) {
        return new HandoffRejectedException(HttpServletResponse.SC_BAD_REQUEST, "Last-Event-ID header " + problem);
    }

    private void setIfAbsent(String name, String value) {
        if (!response.containsHeader(name)) {
            response.setHeader(name, value);
        }
    }

    private String describe() {
        return request.getMethod() + " " + request.getRequestURI() + " from " + request.getRemoteAddr() + ":"
                + request.getRemotePort();
    }

    /** The request's async cycle, started on first use (by the body or the response), with one listener. */
    private Exchange exchange() {
        if (exchange == null) {
            AsyncContext async = asyncStarter != null ? asyncStarter.get() : request.startAsync(request, response);
            if (async == null || !request.isAsyncStarted()) {
                throw new IllegalStateException("the async starter given to startAsyncWith did not start async "
                        + "processing");
            }
            async.setTimeout(0);
            exchange = new Exchange(async);
            async.addListener(exchange);
        }
        return exchange;
    }

    /**
     * Starts async processing, binds a connection to the response (a new one, or the one of {@code taken}, an
     * unattached stream this request took, which adopts this handoff's options), and commits the head.
     */
    private <T extends ConnectionHandle> T open(byte[] heartbeatOpen, byte[] heartbeatClose, T taken,
            Function<Connection, T> handleFor, Consumer<? super T> beforeCommit) {
        ServletOutputStream out;
        try {
            out = response.getOutputStream();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("getWriter() was already called on this response: a stream writes bytes, "
                    + "so hand off before using the writer", e);
        } catch (IOException e) {
            throw new UncheckedIOException("the response's output stream is not available", e);
        }
        Exchange ex = exchange();
        Connection connection;
        T handle;
        if (taken == null) {
            connection = new Connection(describe(), options, heartbeatOpen, heartbeatClose, options.scheduler()::nanoTime);
            handle = handleFor.apply(connection);
        } else {
            if (!taken.take()) {
                throw new IllegalStateException("this stream was taken by another request meanwhile (" + taken + ")");
            }
            connection = taken.connection();
            connection.adopt(describe(), options, heartbeatOpen);
            handle = taken;
        }
        request.setAttribute(HANDED_OFF_ATTRIBUTE, connection.id());
        if (options.socketSendBuffer() > 0) {
            // Before anything is written: a client that stops reading shows in the queue within about this much.
            ex.capSendBuffer(options.socketSendBuffer());
        }
        ServletTransport transport = ServletTransport.bind(ex, out, connection);
        try {
            if (beforeCommit != null) {
                beforeCommit.accept(handle);
            }
            // Commit status and headers now, so that the client sees the stream open before the first event.
            response.flushBuffer();
        } catch (IOException e) {
            connection.onContainerError(e);
            return handle;
        } catch (RuntimeException e) {
            connection.abort(CloseReason.ERROR, "committing the response failed", e);
            throw e;
        }
        if ("HEAD".equals(request.getMethod())) {
            connection.abort(CloseReason.HEAD_REQUEST, "HEAD request: headers only", null);
        } else {
            out.setWriteListener(transport);
        }
        return handle;
    }
}
