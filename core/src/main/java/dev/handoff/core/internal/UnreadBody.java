package dev.handoff.core.internal;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The body of a request refused before anyone read it, taken off the container's thread so that refusing it
 * costs no thread, whatever the client does with its body.
 *
 * <p><b>The problem.</b> After the answer, the container must get past the unread body before the connection can
 * end or carry another request. Over HTTP/1.x, Tomcat reads and discards it ("swallows", up to its
 * {@code maxSwallowSize}, 2 MB) with a blocking read on the request thread once the servlet returns: a client
 * that declares a body and never sends it holds that thread until Tomcat's connection time-out (60 s unless
 * set), and a few hundred such clients hold them all. Closing at once instead (Tomcat's own
 * {@code DISABLE_SWALLOW_INPUT}) turns the close into a reset for a client that is still sending, which often
 * loses it the answer. Over HTTP/2, Tomcat (11.0, 10.1) gives a stream that ends before it took its first DATA
 * frame no flow-control window: each DATA frame the client had already sent then gets a
 * {@code RST_STREAM FLOW_CONTROL_ERROR}, every reset counts against Tomcat's overhead protection, and a few
 * refused uploads close the whole connection, with every stream on it.
 *
 * <p><b>The approach.</b> The request goes async before the answer is written, with a {@link ReadListener}:
 * over HTTP/1.x it reads and discards the body as it arrives, without a thread waiting, up to
 * {@value #MAX_DRAINED} bytes and for at most {@value #DRAIN_MILLIS} ms; over HTTP/2 it reads nothing (the
 * listener alone makes Tomcat set the stream's input up, so what the client sent is swallowed, and the stream
 * is then reset with {@code NO_ERROR}, as Jetty does either way). The exchange completes once the answer is
 * written and the body was read to its end, or given up: past either bound, or when the client fails; then, on
 * Tomcat, the connection closes without a blocking drain ({@link TomcatActions#skipUnreadBody}).
 */
public final class UnreadBody implements ReadListener, AsyncListener {

    /** The most bytes of a refused body read to throw away (Tomcat's default {@code maxSwallowSize}). */
    static final long MAX_DRAINED = 2L << 20;
    /** How long a refused body may take to arrive before the connection is closed with it unread. */
    static final long DRAIN_MILLIS = 10_000;

    private final AsyncContext async;
    private final HttpServletResponse response;
    private final ServletInputStream in;
    /** The answer written, and the body read or given up: the exchange completes when both happened. */
    private final AtomicInteger waiting = new AtomicInteger(2);
    private final AtomicBoolean bodyDone = new AtomicBoolean();
    private volatile boolean givenUp;
    // ---- Touched by the container's read callbacks only, one at a time.
    private byte[] buffer;
    private long drained;

    private UnreadBody(AsyncContext async, HttpServletResponse response, ServletInputStream in) {
        this.async = async;
        this.response = response;
        this.in = in;
    }

    /**
     * Before a refusal is written to {@code response}: takes the request's body if it has one that nobody has
     * read and the request can go async. The caller writes the answer and then calls {@link #answered()}.
     * Returns null where there is nothing to take: the container then ends the request as it always does.
     *
     * @param http1 whether the request is HTTP/1.x, where the body is read and discarded (else it is not read)
     */
    public static UnreadBody take(HttpServletRequest request, HttpServletResponse response, boolean http1) {
        long declared = request.getContentLengthLong();
        String encoding = request.getHeader("Transfer-Encoding");
        boolean chunked = encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked");
        if ((declared <= 0 && !chunked) || request.isAsyncStarted() || !request.isAsyncSupported()) {
            return null;
        }
        if (http1 && declared > MAX_DRAINED) {
            // More than is worth reading away: the container closes the connection after the answer without
            // reading it (Tomcat does past its maxSwallowSize, Jetty always).
            return null;
        }
        if (http1 && request.getHeader("Expect") != null) {
            // The client waits for "100 Continue" before it sends: the container closes without reading, and a
            // listener of ours could only ask for the body.
            return null;
        }
        AsyncContext async;
        try {
            async = request.startAsync();
        } catch (IllegalStateException cannot) {
            return null;
        }
        ServletInputStream in = null;
        try {
            in = request.getInputStream();
        } catch (IOException | IllegalStateException readAlready) {
            // A reader was taken: the body is the application's; only the answer is waited for.
        }
        UnreadBody body = new UnreadBody(async, response, in);
        async.setTimeout(DRAIN_MILLIS);
        async.addListener(body);
        if (in == null) {
            body.bodyDone(false);
            return body;
        }
        try {
            in.setReadListener(body);
        } catch (IllegalStateException taken) {
            body.bodyDone(false); // Read already (a listener of the application's): the container set it up.
            return body;
        }
        if (!http1) {
            body.bodyDone(false); // Set up, not read: the stream ends with the answer.
        }
        return body;
    }

    /** The refusal was written (or writing it failed): the exchange may complete once the body is done with. */
    public void answered() {
        arrive();
    }

    private void bodyDone(boolean giveUp) {
        if (bodyDone.compareAndSet(false, true)) {
            givenUp = giveUp;
            arrive();
        }
    }

    private void arrive() {
        if (waiting.decrementAndGet() != 0) {
            return;
        }
        if (givenUp) {
            TomcatActions.skipUnreadBody(response);
        }
        try {
            async.complete();
        } catch (IllegalStateException completedAlready) {
            // The container ended the request first (the client left): nothing more to do.
        }
    }

    // ---- ReadListener: container threads, one at a time.

    @Override
    public void onDataAvailable() throws IOException {
        if (bodyDone.get()) {
            return; // Over HTTP/2 (not read), or given up.
        }
        if (buffer == null) {
            buffer = new byte[8192];
        }
        while (in.isReady()) {
            int n = in.read(buffer);
            if (n < 0) {
                return; // onAllDataRead follows.
            }
            drained += n;
            if (drained > MAX_DRAINED) {
                bodyDone(true);
                return;
            }
        }
    }

    @Override
    public void onAllDataRead() {
        bodyDone(false);
    }

    @Override
    public void onError(Throwable t) {
        bodyDone(true);
    }

    // ---- AsyncListener.

    @Override
    public void onTimeout(AsyncEvent event) {
        bodyDone(true);
    }

    @Override
    public void onError(AsyncEvent event) {
        bodyDone(true);
    }

    @Override
    public void onComplete(AsyncEvent event) {
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
    }

    @Override
    public String toString() {
        return "UnreadBody[" + drained + " bytes read away" + (bodyDone.get() ? givenUp ? ", given up" : ", done" : "")
                + ", waiting " + waiting.get() + "]";
    }
}
