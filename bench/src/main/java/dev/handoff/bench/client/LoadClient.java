package dev.handoff.bench.client;

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
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds many SSE connections to one server on non-blocking sockets, one loop thread for all of them. It opens
 * connections at a bounded rate, spread over source addresses 127.0.0.1..n so that no source runs short of
 * ports, records when each event arrives on each connection, and can keep some connections stalled (never
 * read after the head) or churning (closed as soon as the head arrived, then replaced).
 *
 * <p>Everything about connections happens on the loop thread; other threads ask through {@link #call}.
 */
public final class LoadClient implements AutoCloseable {

    private static final int READ_BUFFER = 256 * 1024;
    /** Receive buffer of a stalled connection, small so that the server's side fills up soon. */
    private static final int STALLED_RCVBUF = 16 * 1024;

    private final InetSocketAddress server;
    private final int sources;
    private final byte[] request;
    private final Selector selector;
    private final Thread loop;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean running = true;

    // ---- Counters: written by the loop thread, read by anyone.
    public final AtomicInteger established = new AtomicInteger();
    public final AtomicInteger refused = new AtomicInteger();
    public final AtomicInteger failed = new AtomicInteger();
    /** Healthy connections the server closed after the head. */
    public final AtomicInteger dropped = new AtomicInteger();
    public final AtomicLong churnCycles = new AtomicLong();

    // ---- Loop thread only.
    private final List<SseConnection> connections = new ArrayList<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);
    private int opened;
    private int rampTarget;
    private double rampPerNano;
    private long rampStartNanos;
    private int rampStartCount;
    private double stalledFraction;
    private int churnOpen;
    private long churnUntilNanos;

    public LoadClient(InetSocketAddress server, int sources, String path) throws IOException {
        this.server = server;
        this.sources = sources;
        this.request = ("GET " + path + " HTTP/1.1\r\nHost: " + server.getHostString() + ":" + server.getPort()
                + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        this.selector = Selector.open();
        this.loop = new Thread(this::run, "load-client");
        loop.setDaemon(true);
        loop.start();
    }

    /** Runs {@code task} on the loop thread and waits for its result. */
    public <T> T call(Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                result.complete(task.call());
            } catch (Exception | Error e) {
                result.completeExceptionally(e);
            }
        });
        selector.wakeup();
        return result.get(60, TimeUnit.SECONDS);
    }

    /** Opens {@code count} more connections, {@code perSecond} at most, a fraction of them stalled. */
    public void ramp(int count, int perSecond, double stalled) throws Exception {
        call(() -> {
            rampStartCount = opened;
            rampTarget = opened + count;
            rampPerNano = perSecond / 1e9;
            rampStartNanos = System.nanoTime();
            stalledFraction = stalled;
            return null;
        });
    }

    /** Keeps {@code concurrent} connections cycling (open, head, close) for {@code length}. */
    public void churn(int concurrent, Duration length) throws Exception {
        call(() -> {
            churnUntilNanos = System.nanoTime() + length.toNanos();
            for (int i = 0; i < concurrent; i++) {
                open(new SseConnection(-1, SseConnection.Role.CHURN));
            }
            return null;
        });
    }

    public int churnOpen() throws Exception {
        return call(() -> churnOpen);
    }

    /** Connections that neither got a head nor failed yet. */
    public int pending() {
        return opened - established.get() - refused.get() - failed.get();
    }

    public int rampRemaining() throws Exception {
        return call(() -> rampTarget - opened);
    }

    /** Closes the connections still waiting for their head; returns how many. */
    public int closeUnestablished() throws Exception {
        return call(() -> {
            int closed = 0;
            for (SseConnection c : connections) {
                if (!c.headDone() && c.key != null && c.key.isValid()) {
                    closeQuietly(c);
                    failed.incrementAndGet();
                    closed++;
                }
            }
            return closed;
        });
    }

    /** Healthy connections with a 200 head, open now. */
    public int healthyOpen() throws Exception {
        return call(() -> (int) connections.stream().filter(this::measured).count());
    }

    /** Healthy open connections that have read an event with a sequence number of at least {@code seq}. */
    public int reached(long seq) throws Exception {
        return call(() -> (int) connections.stream().filter(c -> measured(c) && c.maxSeq >= seq).count());
    }

    private boolean measured(SseConnection c) {
        return c.role == SseConnection.Role.HEALTHY && c.status == 200 && c.key != null && c.key.isValid();
    }

    /** One round's events on every healthy connection, checked against [first, last], then forgotten. */
    public Round collect(long first, long last, long sentNanos) throws Exception {
        return call(() -> {
            Round round = new Round(first, last);
            for (SseConnection c : connections) {
                if (!measured(c)) {
                    continue;
                }
                long expected = first;
                boolean inOrder = true;
                for (int i = 0; i < c.count; i++) {
                    long seq = c.seqs[i];
                    if (seq < first || seq > last) {
                        continue;
                    }
                    if (seq != expected) {
                        inOrder = false;
                    }
                    expected = seq + 1;
                    round.latency(c.nanos[i] - sentNanos);
                }
                round.connection(inOrder && expected == last + 1);
                c.clearEvents();
            }
            return round;
        });
    }

    // ------------------------------------------------------------------ the loop

    private void run() {
        while (running) {
            try {
                Runnable task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                rampStep();
                selector.select(opened < rampTarget ? 2 : 50);
                long now = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    handle(key, now);
                }
                selector.selectedKeys().clear();
            } catch (IOException | RuntimeException e) {
                System.err.println("load client: " + e);
            }
        }
    }

    private void rampStep() {
        if (opened >= rampTarget) {
            return;
        }
        long due = rampStartCount + (long) ((System.nanoTime() - rampStartNanos) * rampPerNano) + 1;
        while (opened < rampTarget && opened < due) {
            int n = opened - rampStartCount;
            boolean stalled = stalledFraction > 0 && (n % Math.max(1, (int) Math.round(1 / stalledFraction))) == 0;
            SseConnection c = new SseConnection(opened, stalled ? SseConnection.Role.STALLED : SseConnection.Role.HEALTHY);
            connections.add(c);
            open(c);
        }
    }

    private void open(SseConnection c) {
        SocketChannel channel = null;
        boolean counted = false;
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            if (c.role == SseConnection.Role.STALLED) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, STALLED_RCVBUF);
            }
            int spread = c.role == SseConnection.Role.CHURN ? (int) churnCycles.get() : c.index;
            channel.bind(new InetSocketAddress("127.0.0." + (1 + Math.floorMod(spread, sources)), 0));
            c.key = channel.register(selector, SelectionKey.OP_CONNECT, c);
            count(c, 1);
            counted = true;
            if (channel.connect(server)) {
                connected(c);
            }
        } catch (IOException e) {
            if (!counted) {
                count(c, 1);
            }
            if (c.role == SseConnection.Role.CHURN) {
                count(c, -1);
            }
            failed.incrementAndGet();
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }
    }

    /** Churning connections are counted while open; the others once, when opened. */
    private void count(SseConnection c, int delta) {
        if (c.role == SseConnection.Role.CHURN) {
            churnOpen += delta;
        } else if (delta > 0) {
            opened++;
        }
    }

    private void connected(SseConnection c) throws IOException {
        SocketChannel channel = (SocketChannel) c.key.channel();
        ByteBuffer out = ByteBuffer.wrap(request);
        channel.write(out);
        if (out.hasRemaining()) {
            throw new IOException("request not written at once");
        }
        c.key.interestOps(SelectionKey.OP_READ);
    }

    private void handle(SelectionKey key, long now) {
        SseConnection c = (SseConnection) key.attachment();
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            if (key.isConnectable()) {
                channel.finishConnect();
                connected(c);
                return;
            }
            if (!key.isReadable()) {
                return;
            }
            for (int reads = 0; reads < 4; reads++) {
                readBuffer.clear();
                int n = channel.read(readBuffer);
                if (n < 0) {
                    ended(c);
                    return;
                }
                if (n == 0) {
                    return;
                }
                if (c.feed(readBuffer.array(), 0, n, now) && headArrived(c)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            ended(c);
        }
    }

    /** @return true if the connection should not be read now */
    private boolean headArrived(SseConnection c) {
        if (c.role == SseConnection.Role.CHURN) {
            closeQuietly(c);
            churnOpen--;
            churnCycles.incrementAndGet();
            if (System.nanoTime() < churnUntilNanos) {
                open(new SseConnection(-1, SseConnection.Role.CHURN));
            }
            return true;
        }
        if (c.status == 200) {
            established.incrementAndGet();
        } else {
            refused.incrementAndGet();
        }
        if (c.role == SseConnection.Role.STALLED) {
            c.key.interestOps(0);
            return true;
        }
        return false;
    }

    private void ended(SseConnection c) {
        boolean hadHead = c.headDone();
        closeQuietly(c);
        if (c.role == SseConnection.Role.CHURN) {
            churnOpen--;
            failed.incrementAndGet();
            if (System.nanoTime() < churnUntilNanos) {
                open(new SseConnection(-1, SseConnection.Role.CHURN));
            }
        } else if (!hadHead) {
            failed.incrementAndGet();
        } else if (c.status == 200) {
            dropped.incrementAndGet();
        }
    }

    private static void closeQuietly(SseConnection c) {
        try {
            c.key.cancel();
            c.key.channel().close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws Exception {
        call(() -> {
            connections.forEach(c -> {
                if (c.key != null) {
                    closeQuietly(c);
                }
            });
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
            connections.clear();
            return null;
        });
        running = false;
        selector.wakeup();
        loop.join(10_000);
        selector.close();
    }
}
