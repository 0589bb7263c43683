package dev.handoff.test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * An SSE client for tests, against a running server (a {@code @SpringBootTest(webEnvironment = RANDOM_PORT)}, an
 * embedded container, any URL), on the JDK's {@code HttpClient}: it records what the stream sends, and asserts on
 * it with messages that show what did arrive.
 *
 * <pre>{@code
 * try (SseRecorder sse = SseRecorder.open(URI.create(base + "/tasks/42/progress"))) {
 *     sse.assertStatus(200);
 *     sse.assertEvent("progress", "{\"percent\":10}");
 *     assertEquals(20, sse.nextEvent().field("percent"));        // opened with a JSON decoder
 *     sse.assertNoEvent(Duration.ofMillis(200));
 *     try (SseRecorder back = sse.reconnect()) {                   // with Last-Event-ID: what it last received
 *         back.assertEvent("progress", "{\"percent\":30}");
 *     }
 * }
 * }</pre>
 *
 * <p>Events are parsed as the SSE specification says a browser parses them (lines ending in CR, LF or CRLF; a
 * block ends at a blank line; {@code data} lines joined; comments and {@code retry} kept apart). Every wait has a
 * deadline: {@link #DEFAULT_WAIT} unless one is given. Thread-safe: the response is read on the client's threads.
 */
public final class SseRecorder implements AutoCloseable {

    /** How long waits last when none is given. */
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(10);

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private final URI uri;
    private final Map<String, String> headers;
    private final Function<String, Map<String, ?>> json;
    private final CompletableFuture<HttpResponse.ResponseInfo> head = new CompletableFuture<>();
    private final Parser parser;

    // ---- Guarded by this.
    private final List<RecordedEvent> events = new ArrayList<>();
    private final List<String> comments = new ArrayList<>();
    /** The next event {@link #nextEvent} returns: an index into {@link #events}. */
    private int taken;
    private Duration retry;
    private boolean ended;
    private Throwable failure;
    private boolean paused;
    private long requested;
    private Flow.Subscription subscription;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    private SseRecorder(URI uri, Map<String, String> headers, Function<String, Map<String, ?>> json) {
        this.uri = uri;
        this.headers = Map.copyOf(headers);
        this.json = json;
        this.parser = new Parser();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").GET();
        this.headers.forEach(request::header);
        CLIENT.sendAsync(request.build(), info -> {
            head.complete(info);
            return HttpResponse.BodySubscribers.fromSubscriber(new Reader());
        }).whenComplete((response, error) -> {
            if (error != null) {
                head.completeExceptionally(error);
                ended(error);
            }
        });
    }

    /** Opens {@code GET uri} as an event stream. */
    public static SseRecorder open(URI uri) {
        return open(uri, Map.of());
    }

    /** Opens {@code GET uri} as an event stream, with these request headers ({@code Last-Event-ID}, say). */
    public static SseRecorder open(URI uri, Map<String, String> headers) {
        return new SseRecorder(Objects.requireNonNull(uri, "uri"), headers, null);
    }

    /**
     * Opens {@code GET uri} as an event stream, with these request headers, and {@code json} to decode event data as
     * JSON objects for {@link RecordedEvent#field} (the Spring Boot starter's recorders use the application's mapper).
     */
    public static SseRecorder open(URI uri, Map<String, String> headers, Function<String, Map<String, ?>> json) {
        return new SseRecorder(Objects.requireNonNull(uri, "uri"), headers, Objects.requireNonNull(json, "json"));
    }

    // ------------------------------------------------------------------ the response

    /** The response status, once the response head arrived. */
    public int status() {
        return head(DEFAULT_WAIT).statusCode();
    }

    /** A response header's first value, or null. */
    public String header(String name) {
        return head(DEFAULT_WAIT).headers().firstValue(name).orElse(null);
    }

    /** Every response header. */
    public HttpHeaders headers() {
        return head(DEFAULT_WAIT).headers();
    }

    /** Asserts the response status (and, for 200, that it is an event stream). */
    public SseRecorder assertStatus(int expected) {
        int status = status();
        if (status != expected) {
            throw new AssertionError("expected status " + expected + " from " + uri + ", got " + status + " "
                    + headers().map() + (status == 200 ? "" : ", body " + RecordedEvent.quoted(awaitBody(DEFAULT_WAIT))));
        }
        if (expected == 200) {
            String type = header("Content-Type");
            if (type == null || !type.startsWith("text/event-stream")) {
                throw new AssertionError("expected an event stream from " + uri + ", got Content-Type " + type);
            }
        }
        return this;
    }

    /**
     * Asserts that the request was refused as a limit refuses it: this status (429 or 503, say), with a
     * {@code Retry-After} header; returns the body (the server's message).
     */
    public String assertRefused(int expectedStatus) {
        int status = status();
        String retryAfter = header("Retry-After");
        String text = awaitBody(DEFAULT_WAIT);
        if (status != expectedStatus || retryAfter == null) {
            throw new AssertionError("expected a refusal " + expectedStatus + " with Retry-After from " + uri + ", got "
                    + status + " Retry-After " + retryAfter + ", body " + RecordedEvent.quoted(text));
        }
        return text;
    }

    /** The whole body as text, once the response ended (for a refusal; an event stream ends when the server ends it). */
    public String awaitBody(Duration within) {
        awaitEnd(within);
        synchronized (this) {
            return body.toString(StandardCharsets.UTF_8);
        }
    }

    // ------------------------------------------------------------------ events

    /** The next event not yet returned, waiting up to {@link #DEFAULT_WAIT}. */
    public RecordedEvent nextEvent() {
        return nextEvent(DEFAULT_WAIT);
    }

    /**
     * The next event not yet returned, waiting up to {@code within} for it.
     *
     * @throws AssertionError if none arrives in time, or the stream ends first (saying what arrived)
     */
    public synchronized RecordedEvent nextEvent(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (taken >= events.size()) {
            if (ended) {
                throw new AssertionError("the stream from " + uri + " ended" + endedHow() + " without another event; "
                        + seen());
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no event from " + uri + " within " + within.toMillis() + " ms; " + seen());
            }
            waitNanos(left);
        }
        return events.get(taken++);
    }

    /** Asserts that the next event has this name and data; returns it. */
    public RecordedEvent assertEvent(String event, String data) {
        return assertEvent(e -> e.event().equals(event) && e.data().equals(data),
                "event '" + event + "' data " + RecordedEvent.quoted(data));
    }

    /** Asserts that the next event has this name, data and id; returns it. */
    public RecordedEvent assertEvent(String event, String data, String id) {
        return assertEvent(e -> e.event().equals(event) && e.data().equals(data) && id.equals(e.id()),
                "event '" + event + "' data " + RecordedEvent.quoted(data) + " id " + id);
    }

    /** Asserts that the next event is what {@code expected} accepts ({@code described} says what that is). */
    public RecordedEvent assertEvent(Predicate<RecordedEvent> expected, String described) {
        RecordedEvent e = nextEvent();
        if (!expected.test(e)) {
            throw new AssertionError("expected " + described + " from " + uri + ", got " + e + "; " + seen());
        }
        return e;
    }

    /** Asserts that the next events' data are exactly these, in this order (a catch-up, say); returns them. */
    public List<RecordedEvent> assertData(String... data) {
        List<RecordedEvent> got = new ArrayList<>(data.length);
        for (String d : data) {
            RecordedEvent e = nextEvent();
            got.add(e);
            if (!e.data().equals(d)) {
                throw new AssertionError("expected the data " + Arrays.toString(data) + " from " + uri + "; event "
                        + got.size() + " was " + e + "; " + seen());
            }
        }
        return got;
    }

    /**
     * Asserts that the next event is the registry's {@code reset} for {@code topic}: the server could not resume the
     * topic from the {@code Last-Event-ID}, and the client must reload its state.
     */
    public RecordedEvent assertReset(String topic) {
        return assertEvent(e -> e.event().equals("reset") && e.data().equals(topic), "a reset of topic '" + topic + "'");
    }

    /** Asserts that no event arrives for {@code during} (waiting all of it), nor the end of the stream. */
    public synchronized void assertNoEvent(Duration during) {
        long deadline = System.nanoTime() + during.toNanos();
        while (taken >= events.size() && !ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            waitNanos(left);
        }
        throw new AssertionError("expected no event from " + uri + " for " + during.toMillis() + " ms, got "
                + (taken < events.size() ? events.get(taken) : "the end of the stream" + endedHow()) + "; " + seen());
    }

    /** Asserts that the server ends the stream within {@code within} with no event after those returned. */
    public synchronized void assertEnded(Duration within) {
        awaitEnd(within);
        if (taken < events.size()) {
            throw new AssertionError("the stream from " + uri + " ended, but after events not yet looked at: "
                    + events.subList(taken, events.size()));
        }
    }

    /** Waits until at least {@code n} comments (heartbeats) arrived in all; returns them. */
    public synchronized List<String> awaitComments(int n, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (comments.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || ended) {
                throw new AssertionError("expected " + n + " comments (heartbeats) from " + uri + " within "
                        + within.toMillis() + " ms, got " + comments + (ended ? "; it ended" + endedHow() : ""));
            }
            waitNanos(left);
        }
        return List.copyOf(comments);
    }

    /** Every event received so far, returned or not. */
    public synchronized List<RecordedEvent> events() {
        return List.copyOf(events);
    }

    /** Every comment (heartbeat) received so far, without its colon. */
    public synchronized List<String> comments() {
        return List.copyOf(comments);
    }

    /** The last {@code retry:} the server sent, if any: how long a browser would wait before reconnecting. */
    public synchronized Optional<Duration> retry() {
        return Optional.ofNullable(retry);
    }

    /** The id a browser would send as {@code Last-Event-ID} on reconnecting now, or null. */
    public synchronized String lastEventId() {
        return parser.lastId;
    }

    // ------------------------------------------------------------------ connection

    /**
     * Closes this connection and opens the same request again, as a browser reconnects: with
     * {@code Last-Event-ID} set to the last id received (if any).
     */
    public SseRecorder reconnect() {
        String last = lastEventId();
        close();
        Map<String, String> again = new LinkedHashMap<>(headers);
        again.remove("Last-Event-ID");
        if (last != null) {
            again.put("Last-Event-ID", last);
        }
        return new SseRecorder(uri, again, json);
    }

    /**
     * Stops reading: the client takes no more bytes, so the server's writes back up (a slow client, as far as the
     * server can tell) until {@link #resume()}.
     */
    public synchronized void pause() {
        paused = true;
    }

    /** Reads again after {@link #pause()}. */
    public void resume() {
        Flow.Subscription s;
        synchronized (this) {
            paused = false;
            s = subscription;
            if (s == null || requested > 0) {
                return;
            }
            requested = 1;
        }
        s.request(1);
    }

    /** Whether the server ended the stream (or the connection failed). */
    public synchronized boolean isEnded() {
        return ended;
    }

    /** Waits until the stream ends, from the server's side or by failing. */
    public synchronized void awaitEnd(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the stream from " + uri + " did not end within " + within.toMillis() + " ms; "
                        + seen());
            }
            waitNanos(left);
        }
    }

    /** Disconnects, as a client that goes away: the server sees the connection close. */
    @Override
    public void close() {
        Flow.Subscription s;
        synchronized (this) {
            s = subscription;
            if (ended) {
                return;
            }
            ended = true;
            notifyAll();
        }
        if (s != null) {
            s.cancel();
        } else {
            head.cancel(false);
        }
    }

    @Override
    public synchronized String toString() {
        return "SseRecorder[" + uri + ", " + events.size() + " events, " + comments.size() + " comments"
                + (ended ? ", ended" : paused ? ", paused" : "") + "]";
    }

    // ------------------------------------------------------------------ internals

    private HttpResponse.ResponseInfo head(Duration within) {
        try {
            return head.get(within.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no response head from " + uri + " within " + within.toMillis() + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("the request to " + uri + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + uri);
        }
    }

    private String seen() {
        int from = Math.max(0, events.size() - 5);
        return "received " + events.size() + " events" + (events.isEmpty() ? "" : " (last: " + events.subList(from,
                events.size()) + ")") + ", " + comments.size() + " comments";
    }

    private String endedHow() {
        return failure == null ? "" : " (" + failure + ")";
    }

    private void waitNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + uri);
        }
    }

    private synchronized void ended(Throwable why) {
        if (!ended) {
            ended = true;
            failure = why;
        }
        notifyAll();
    }

    /** Takes the body as it comes, one buffer list at a time, unless paused. */
    private final class Reader implements Flow.Subscriber<List<ByteBuffer>> {
        @Override
        public void onSubscribe(Flow.Subscription s) {
            boolean cancel;
            synchronized (SseRecorder.this) {
                subscription = s;
                cancel = ended;
                requested = 1;
            }
            if (cancel) {
                s.cancel();
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            boolean more;
            // The head came before the body: an answer other than 200 is kept as text, not parsed as events.
            HttpResponse.ResponseInfo info = head.getNow(null);
            boolean events = info == null || info.statusCode() == 200;
            synchronized (SseRecorder.this) {
                for (ByteBuffer b : buffers) {
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    if (events) {
                        parser.feed(bytes);
                    } else {
                        body.write(bytes, 0, bytes.length);
                    }
                }
                SseRecorder.this.notifyAll();
                requested = paused ? 0 : 1;
                more = !paused && !ended;
            }
            if (more) {
                subscription.request(1);
            }
        }

        @Override
        public void onError(Throwable t) {
            ended(t);
        }

        @Override
        public void onComplete() {
            ended(null);
        }
    }

    /** The SSE event-stream parser (guarded by the recorder). */
    private final class Parser {
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private boolean lastWasCr;
        private final StringBuilder data = new StringBuilder();
        private boolean hasData;
        private String event;
        private Duration blockRetry;
        String lastId;

        void feed(byte[] bytes) {
            for (byte b : bytes) {
                if (b == '\n' && lastWasCr) {
                    lastWasCr = false;
                    continue;
                }
                lastWasCr = b == '\r';
                if (b == '\n' || b == '\r') {
                    line(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        }

        private void line(String l) {
            if (l.isEmpty()) {
                dispatch();
                return;
            }
            if (l.startsWith(":")) {
                comments.add(l.substring(1).startsWith(" ") ? l.substring(2) : l.substring(1));
                return;
            }
            int colon = l.indexOf(':');
            String field = colon < 0 ? l : l.substring(0, colon);
            String value = colon < 0 ? "" : l.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "data" -> {
                    if (hasData) {
                        data.append('\n');
                    }
                    data.append(value);
                    hasData = true;
                }
                case "event" -> event = value;
                case "id" -> {
                    if (value.indexOf('\0') < 0) {
                        lastId = value;
                    }
                }
                case "retry" -> {
                    if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
                        blockRetry = Duration.ofMillis(Long.parseLong(value));
                        retry = blockRetry;
                    }
                }
                default -> {
                    // Unknown fields are ignored, as a browser does.
                }
            }
        }

        private void dispatch() {
            if (hasData) {
                events.add(new RecordedEvent(lastId, event == null || event.isEmpty() ? "message" : event,
                        data.toString(), blockRetry, json));
            }
            data.setLength(0);
            hasData = false;
            event = null;
            blockRetry = null;
        }
    }
}
