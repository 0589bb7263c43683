package dev.handoff.core.support;

import dev.handoff.core.support.SseParser.Event;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A non-blocking HTTP/1.1 client for container tests that holds thousands of streaming responses on one
 * thread, so that it adds nothing per stream to the JVM's thread count. It decodes chunked bodies, feeds
 * them to the spec {@link SseParser}, and can stop reading (a stalled client) or vanish (close or reset).
 */
public final class StreamClient implements AutoCloseable {

    private final InetSocketAddress server;
    private final Selector selector;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Function<Event, String> sequenceKey = Event::lastEventId;
    /** Gives throttled connections their socket back after a pause. */
    private final java.util.concurrent.ScheduledExecutorService timer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "stream-client-timer");
                t.setDaemon(true);
                return t;
            });

    public StreamClient(int port) throws IOException {
        this.server = new InetSocketAddress("127.0.0.1", port);
        this.selector = Selector.open();
        this.thread = new Thread(this::run, "stream-client");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Where count-only connections find each event's sequence number (by default its id): for example
     * {@code e -> e.data()} when the server numbers the data and chooses its own ids. Set before requests.
     */
    public StreamClient sequenceBy(Function<Event, String> key) {
        this.sequenceKey = key;
        return this;
    }

    /** Sends {@code GET path} with the given extra header lines ("Name: value"). */
    public Conn get(String path, String... headers) throws IOException {
        return request("GET", path, 0, true, headers);
    }

    /**
     * Sends a request; a positive {@code receiveBuffer} shrinks the socket's receive buffer, so that a
     * paused client pushes back on the server sooner. Without {@code retain}, the body and events are
     * counted and checked for order (each event's id must be its sequence number from 0) but not kept.
     */
    public Conn request(String method, String path, int receiveBuffer, boolean retain, String... headers)
            throws IOException {
        return request(0, method, path, receiveBuffer, retain, headers);
    }

    /**
     * A count-only {@code GET} whose first event must carry sequence number {@code firstSeq} (a resumed
     * stream), with the given extra header lines.
     */
    public Conn getFrom(long firstSeq, String path, String... headers) throws IOException {
        return request(firstSeq, "GET", path, 0, false, headers);
    }

    private Conn request(long firstSeq, String method, String path, int receiveBuffer, boolean retain,
            String... headers) throws IOException {
        StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:").append(server.getPort()).append("\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        sb.append("\r\n");
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        if (receiveBuffer > 0) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
        }
        Conn conn = new Conn(ch, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.ISO_8859_1)),
                method.equals("HEAD"), retain, firstSeq);
        ch.connect(server);
        submit(() -> {
            try {
                ch.register(selector, SelectionKey.OP_CONNECT, conn);
            } catch (IOException e) {
                conn.fail(e);
            }
        });
        return conn;
    }

    /**
     * Opens {@code n} count-only streams of {@code GET path}, {@code batch} at a time (a batch waits for its
     * response heads, so that a server's accept queue is never flooded), and checks that each got 200.
     */
    public List<Conn> openAll(String path, int n, int batch, Duration timeout) throws Exception {
        List<Conn> conns = new ArrayList<>(n);
        for (int i = 0; i < n; i += batch) {
            List<Conn> b = new ArrayList<>(batch);
            for (int j = i; j < Math.min(n, i + batch); j++) {
                b.add(request("GET", path, 0, false));
            }
            for (Conn c : b) {
                int status = c.head.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).status();
                if (status != 200) {
                    throw new AssertionError("GET " + path + ": status " + status + " (stream " + (conns.size() + 1)
                            + " of " + n + ")");
                }
            }
            conns.addAll(b);
        }
        return conns;
    }

    private void submit(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
        while (running) {
            try {
                selector.select(100);
                Runnable task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn conn = (Conn) key.attachment();
                    try {
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isConnectable() && conn.channel.finishConnect()) {
                            key.interestOps(SelectionKey.OP_WRITE);
                        }
                        if (key.isValid() && key.isWritable()) {
                            conn.channel.write(conn.request);
                            if (!conn.request.hasRemaining()) {
                                key.interestOps(conn.paused ? 0 : SelectionKey.OP_READ);
                            }
                        }
                        if (key.isValid() && key.isReadable()) {
                            buffer.clear();
                            int allowance = conn.allowance();
                            if (allowance <= 0) {
                                key.interestOps(0);
                                conn.resumeLater();
                                continue;
                            }
                            buffer.limit(Math.min(buffer.capacity(), allowance));
                            int n = conn.channel.read(buffer);
                            if (n > 0) {
                                conn.spent(n);
                            }
                            if (n < 0) {
                                conn.endOfStream();
                                key.cancel();
                                conn.channel.close();
                            } else {
                                buffer.flip();
                                conn.received(buffer);
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        conn.fail(e);
                        key.cancel();
                        closeQuietly(conn.channel);
                    }
                }
                selector.selectedKeys().clear();
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws Exception {
        timer.shutdownNow();
        running = false;
        selector.wakeup();
        thread.join(5_000);
        for (SelectionKey key : selector.keys()) {
            closeQuietly(key.channel());
        }
        selector.close();
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }

    /** The response head. */
    public record Head(int status, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** One connection and its response. */
    public final class Conn {
        final SocketChannel channel;
        final ByteBuffer request;
        private final boolean headRequest;
        private final boolean retain;
        /** The sequence number the first event must carry (count-only connections). */
        private final long firstSeq;
        volatile boolean paused;
        /** Bytes per second this connection reads at most; 0 for as fast as it can. */
        private volatile long bytesPerSecond;
        // ---- Selector thread only: the throttle's token bucket.
        private double tokens;
        private long refilledNanos = System.nanoTime();

        /** Completes when the status line and headers arrived. */
        public final CompletableFuture<Head> head = new CompletableFuture<>();
        /** Completes when the body ended: last chunk, or the connection closed or failed. */
        public final CompletableFuture<String> ended = new CompletableFuture<>();

        // ---- Selector thread only.
        private final ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
        private final ByteArrayOutputStream pendingText = new ByteArrayOutputStream();
        private final StringBuilder line = new StringBuilder();
        private boolean chunked;
        private long remaining = -1; // bytes left in the current chunk or in a Content-Length body
        private int chunkState; // 0 size line, 1 data, 2 CRLF after data, 3 trailers, 4 done

        // ---- Guarded by this.
        private final SseParser parser = new SseParser();
        private final StringBuilder body = new StringBuilder();
        private long bodyBytes;
        private long eventCount;
        private String outOfOrder;

        private String lastEventId;

        Conn(SocketChannel channel, ByteBuffer request, boolean headRequest, boolean retain, long firstSeq) {
            this.channel = channel;
            this.request = request;
            this.headRequest = headRequest;
            this.retain = retain;
            this.firstSeq = firstSeq;
        }

        /**
         * Reads at most {@code rate} bytes per second from now on (0: as fast as possible), in slices of
         * about a twentieth of a second: a slow client whose socket buffers fill, though it never stops.
         */
        public void throttle(long rate) {
            bytesPerSecond = rate;
            submit(() -> {
                tokens = 0;
                refilledNanos = System.nanoTime();
                if (rate == 0) {
                    readAgain();
                }
            });
        }

        int allowance() {
            long rate = bytesPerSecond;
            if (rate == 0) {
                return Integer.MAX_VALUE;
            }
            long now = System.nanoTime();
            tokens = Math.min(Math.max(1024, rate / 20.0), tokens + rate * ((now - refilledNanos) / 1e9));
            refilledNanos = now;
            return (int) tokens;
        }

        void spent(int n) {
            if (bytesPerSecond != 0) {
                tokens -= n;
            }
        }

        void resumeLater() {
            timer.schedule(() -> submit(this::readAgain), 10, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        /** Reads again after {@link #pause()}. */
        public void resume() {
            paused = false;
            submit(this::readAgain);
        }

        /** On the selector thread: reads again, unless paused or the request is still being sent. */
        private void readAgain() {
            SelectionKey key = channel.keyFor(selector);
            if (!paused && key != null && key.isValid() && !request.hasRemaining()) {
                key.interestOps(SelectionKey.OP_READ);
            }
        }

        /** The id of the last event received (retained or not), as a browser would resume from; null before one. */
        public synchronized String lastEventId() {
            return lastEventId;
        }

        /** The client's local port, as the server sees it in the remote address. */
        public int localPort() throws IOException {
            return ((InetSocketAddress) channel.getLocalAddress()).getPort();
        }

        /** Stops reading: the server's writes back up once the socket buffers are full. */
        public void pause() {
            paused = true;
            submit(() -> {
                SelectionKey key = channel.keyFor(selector);
                if (key != null && key.isValid()) {
                    key.interestOps(0);
                }
            });
        }

        /** Closes the socket normally (FIN), as a browser tab that goes away. */
        public void close() {
            submit(() -> closeQuietly(channel));
        }

        /** Resets the connection (RST), as a client whose process died. */
        public void reset() {
            submit(() -> {
                try {
                    channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                } catch (IOException ignored) {
                    // Close anyway.
                }
                closeQuietly(channel);
            });
        }

        /** The last {@code retry} the stream sent, in milliseconds, or -1. */
        public synchronized long retry() {
            return parser.retry();
        }

        public synchronized List<Event> events() {
            return new ArrayList<>(parser.events());
        }

        public synchronized List<String> comments() {
            return new ArrayList<>(parser.comments());
        }

        public synchronized String body() {
            return body.toString();
        }

        public synchronized long bodyBytes() {
            return bodyBytes;
        }

        /** Events received so far, retained or not. */
        public synchronized long eventCount() {
            return eventCount;
        }

        /** Without retention: the first event whose id was not its sequence number, or null. */
        public synchronized String outOfOrder() {
            return outOfOrder;
        }

        /** Waits until {@code n} events arrived, retained or not. */
        public void awaitEventCount(long n, Duration timeout) throws InterruptedException {
            awaitCondition(c -> c.eventCount >= n, timeout, n + " events");
        }

        /** Waits until {@code n} events arrived or the response ended, whichever comes first. */
        public synchronized void awaitEventCountOrEnd(long n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (eventCount < n && !ended.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("waited " + timeout + " for " + n + " events or the end; got " + eventCount);
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        /** Waits until {@code n} events arrived; fails with what did arrive otherwise. */
        public List<Event> awaitEvents(int n, Duration timeout) throws InterruptedException {
            awaitCondition(c -> c.parser.events().size() >= n, timeout, n + " events");
            return events();
        }

        /** Waits until {@code n} comment lines (heartbeats among them) arrived. */
        public void awaitComments(int n, Duration timeout) throws InterruptedException {
            awaitCondition(c -> c.parser.comments().size() >= n, timeout, n + " comments");
        }

        /** Waits until the body holds {@code text}. */
        public void awaitBody(String text, Duration timeout) throws InterruptedException {
            awaitCondition(c -> c.body.indexOf(text) >= 0, timeout, "body containing " + text);
        }

        /** Waits until {@code done} holds for this connection; fails naming {@code what} otherwise. */
        public synchronized void awaitCondition(Predicate<Conn> done, Duration timeout, String what)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.test(this)) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || (ended.isDone() && !done.test(this))) {
                    throw new AssertionError("waited " + timeout + " for " + what + "; got " + eventCount
                            + " events, ended=" + ended.getNow("no") + ", body tail="
                            + body.substring(Math.max(0, body.length() - 200)));
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        void fail(Throwable t) {
            head.completeExceptionally(t);
            synchronized (this) {
                ended.complete("failed: " + t);
                notifyAll();
            }
        }

        void endOfStream() {
            head.completeExceptionally(new IOException("connection closed before the response head"));
            synchronized (this) {
                ended.complete(chunkState == 4 ? "complete" : "closed");
                notifyAll();
            }
        }

        void received(ByteBuffer data) {
            while (data.hasRemaining()) {
                if (!head.isDone()) {
                    readHead(data);
                } else if (chunked) {
                    readChunked(data);
                } else {
                    int n = remaining >= 0 ? (int) Math.min(remaining, data.remaining()) : data.remaining();
                    body(data, n);
                    if (remaining >= 0) {
                        remaining -= n;
                        if (remaining == 0) {
                            finished();
                        }
                    }
                }
            }
        }

        private void readHead(ByteBuffer data) {
            while (data.hasRemaining() && !head.isDone()) {
                headBytes.write(data.get());
                byte[] b = headBytes.toByteArray();
                int n = b.length;
                if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                    String[] lines = new String(b, StandardCharsets.ISO_8859_1).split("\r\n");
                    int status = Integer.parseInt(lines[0].split(" ")[1]);
                    Map<String, String> headers = new TreeMap<>();
                    for (int i = 1; i < lines.length; i++) {
                        int colon = lines[i].indexOf(':');
                        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                lines[i].substring(colon + 1).trim(), (a, c) -> a + ", " + c);
                    }
                    chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
                    if (headers.containsKey("content-length")) {
                        remaining = Long.parseLong(headers.get("content-length"));
                    }
                    head.complete(new Head(status, headers));
                    if (headRequest || status == 204 || status == 304 || (!chunked && remaining == 0)) {
                        finished();
                    }
                }
            }
        }

        private void readChunked(ByteBuffer data) {
            while (data.hasRemaining() && chunkState != 4) {
                if (chunkState == 1) {
                    int n = (int) Math.min(remaining, data.remaining());
                    body(data, n);
                    remaining -= n;
                    if (remaining == 0) {
                        chunkState = 2;
                    }
                    continue;
                }
                char c = (char) data.get();
                if (c == '\r') {
                    continue;
                }
                if (c != '\n') {
                    line.append(c);
                    continue;
                }
                String l = line.toString();
                line.setLength(0);
                switch (chunkState) {
                    case 0 -> {
                        int semicolon = l.indexOf(';');
                        remaining = Long.parseLong((semicolon < 0 ? l : l.substring(0, semicolon)).trim(), 16);
                        chunkState = remaining == 0 ? 3 : 1;
                    }
                    case 2 -> {
                        if (!l.isEmpty()) {
                            throw new IllegalStateException("chunk data not followed by CRLF: " + l);
                        }
                        chunkState = 0;
                    }
                    case 3 -> {
                        if (l.isEmpty()) {
                            finished();
                        }
                    }
                    default -> throw new IllegalStateException("chunk state " + chunkState);
                }
            }
        }

        private void finished() {
            chunkState = 4;
            synchronized (this) {
                ended.complete("complete");
                notifyAll();
            }
        }

        private void body(ByteBuffer data, int n) {
            byte[] bytes = new byte[n];
            data.get(bytes);
            // Decode up to the last LF: a UTF-8 sequence never contains that byte, so no character is split.
            pendingText.write(bytes, 0, n);
            byte[] pending = pendingText.toByteArray();
            int lastLf = -1;
            for (int i = pending.length - 1; i >= 0; i--) {
                if (pending[i] == '\n') {
                    lastLf = i;
                    break;
                }
            }
            String text = lastLf < 0 ? "" : new String(pending, 0, lastLf + 1, StandardCharsets.UTF_8);
            pendingText.reset();
            pendingText.write(pending, lastLf + 1, pending.length - lastLf - 1);
            synchronized (this) {
                bodyBytes += n;
                if (!text.isEmpty()) {
                    List<Event> fresh = parser.feed(text);
                    if (!fresh.isEmpty()) {
                        lastEventId = fresh.get(fresh.size() - 1).lastEventId();
                    }
                    if (retain) {
                        body.append(text);
                        eventCount += fresh.size();
                    } else {
                        for (Event e : fresh) {
                            String key = sequenceKey.apply(e);
                            if (outOfOrder == null && !key.equals(Long.toString(firstSeq + eventCount))) {
                                outOfOrder = "event " + eventCount + " had sequence key " + key + " (id "
                                        + e.lastEventId() + ")";
                            }
                            eventCount++;
                        }
                        parser.events().clear();
                    }
                }
                notifyAll();
            }
        }
    }
}
