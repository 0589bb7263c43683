package dev.handoff.core.support;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.SimpleFlowControlStrategy;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.DataFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.util.Callback;

/**
 * An HTTP/2 client for the container tests: one cleartext connection with prior knowledge (h2c, no upgrade), on
 * which each {@link #get} opens a stream, on Jetty's low-level {@code HTTP2Client}. A stream reads its body as it
 * comes (it asks for more data after each frame) unless paused; then it sends no flow-control credit, and its
 * window runs dry.
 */
public final class H2Client implements AutoCloseable {

    private final HTTP2Client client = new HTTP2Client();
    private final Session session;
    private final int port;

    public H2Client(int port) throws Exception {
        this(port, 0);
    }

    /**
     * With a positive {@code streamWindow}, each stream's flow-control window is that many bytes (the HTTP/2 default
     * is 65,535; Jetty's client asks for 8 MiB): a paused stream then stops the server after that many.
     */
    public H2Client(int port, int streamWindow) throws Exception {
        this(port, streamWindow, false);
    }

    /**
     * With {@code creditEveryFrame}, the client sends a WINDOW_UPDATE (for the stream and the connection) for every
     * DATA frame it reads, however small: the most a client can send, where browsers credit about half a window at a
     * time.
     */
    public H2Client(int port, int streamWindow, boolean creditEveryFrame) throws Exception {
        this.port = port;
        if (streamWindow > 0) {
            client.setInitialStreamRecvWindow(streamWindow);
        }
        if (creditEveryFrame) {
            client.setFlowControlStrategyFactory(SimpleFlowControlStrategy::new);
        }
        client.start();
        this.session = client.connect(new InetSocketAddress("127.0.0.1", port), new Session.Listener() {
        }).get(10, TimeUnit.SECONDS);
    }

    /** Opens {@code GET path} as a new stream of the connection. */
    public H2Stream get(String path) throws Exception {
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from("http://127.0.0.1:" + port + path),
                HttpVersion.HTTP_2, HttpFields.EMPTY);
        H2Stream s = new H2Stream();
        s.stream = session.newStream(new HeadersFrame(request, null, true), s).get(10, TimeUnit.SECONDS);
        return s;
    }

    /** Sends {@code POST path} with {@code body}, in DATA frames of 16 KiB as the stream's window allows. */
    public H2Stream post(String path, byte[] body) throws Exception {
        MetaData.Request request = new MetaData.Request("POST", HttpURI.from("http://127.0.0.1:" + port + path),
                HttpVersion.HTTP_2, HttpFields.build().put("content-length", Integer.toString(body.length)),
                body.length);
        H2Stream s = new H2Stream();
        s.stream = session.newStream(new HeadersFrame(request, null, body.length == 0), s).get(10, TimeUnit.SECONDS);
        if (body.length > 0) {
            sendFrom(s.stream, body, 0);
        }
        return s;
    }

    private static void sendFrom(Stream stream, byte[] body, int offset) {
        int n = Math.min(16 * 1024, body.length - offset);
        boolean last = offset + n == body.length;
        stream.data(new DataFrame(stream.getId(), ByteBuffer.wrap(body, offset, n), last), Callback.from(() -> {
            if (!last) {
                sendFrom(stream, body, offset + n);
            }
        }, failure -> {
            // The server reset the stream (a refused upload): nothing more to send.
        }));
    }

    /** How many streams the connection has open now. */
    public int openStreams() {
        return session.getStreams().size();
    }

    /** Whether the connection is still open (the server did not send GOAWAY, as Tomcat does to a client it finds abusive). */
    public boolean isOpen() {
        return !session.isClosed();
    }

    @Override
    public void close() throws Exception {
        client.stop();
    }

    /** One stream: its response head, its body as text, its events. */
    public static final class H2Stream implements Stream.Listener {
        public final CompletableFuture<MetaData.Response> head = new CompletableFuture<>();
        public final CompletableFuture<String> ended = new CompletableFuture<>();
        private final StringBuilder body = new StringBuilder();
        private final SseParser parser = new SseParser();
        private volatile boolean paused;
        private Stream stream;

        @Override
        public void onHeaders(Stream s, HeadersFrame frame) {
            if (frame.getMetaData() instanceof MetaData.Response response) {
                head.complete(response);
            }
            if (frame.isEndStream()) {
                end("complete");
            } else {
                s.demand();
            }
        }

        @Override
        public void onDataAvailable(Stream s) {
            Stream.Data data = s.readData();
            if (data == null) {
                s.demand();
                return;
            }
            ByteBuffer bytes = data.frame().getByteBuffer();
            String text = StandardCharsets.UTF_8.decode(bytes).toString();
            boolean last = data.frame().isEndStream();
            data.release();
            synchronized (this) {
                body.append(text);
                parser.feed(text);
                notifyAll();
            }
            if (last) {
                end("complete");
            } else if (!paused) {
                s.demand();
            }
        }

        @Override
        public void onReset(Stream s, ResetFrame frame, Callback callback) {
            end("reset " + ErrorCode.toString(frame.getError(), "?"));
            callback.succeeded();
        }

        @Override
        public void onFailure(Stream s, int error, String reason, Throwable failure, Callback callback) {
            end("failed " + reason);
            callback.succeeded();
        }

        /** Ends the stream's record and wakes whoever waits on it (an await on {@link #ended} included). */
        private void end(String how) {
            ended.complete(how);
            synchronized (this) {
                notifyAll();
            }
        }

        /** Stops reading: no more flow-control credit for this stream. */
        public void pause() {
            paused = true;
        }

        /** Resets the stream (CANCEL), as a browser does for a closed EventSource on an HTTP/2 connection. */
        public void reset() {
            stream.reset(new ResetFrame(stream.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.NOOP);
        }

        public synchronized List<SseParser.Event> events() {
            return List.copyOf(parser.events());
        }

        public synchronized List<String> comments() {
            return List.copyOf(parser.comments());
        }

        public synchronized String body() {
            return body.toString();
        }

        /** Waits until {@code done} holds, up to {@code timeout}. */
        public synchronized void await(Predicate<H2Stream> done, Duration timeout, String what)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.test(this)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("waited " + timeout + " for " + what + "; got " + parser.events().size()
                            + " events, ended " + ended.getNow("no"));
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
