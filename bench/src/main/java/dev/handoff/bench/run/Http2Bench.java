package dev.handoff.bench.run;

import dev.handoff.bench.client.LoadClient;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;

/**
 * What a stream costs the server over HTTP/2 against HTTP/1.1, in one run per server: {@code streams} SSE streams
 * held open, over HTTP/1.1 (a connection each, the bench's load client) and over cleartext HTTP/2 with prior
 * knowledge (Jetty's {@code HTTP2Client}, {@value #PER_CONNECTION} streams per connection, the containers' default
 * limit), on a server started with {@code --server.http2.enabled=true}. Per protocol: the server's live heap per
 * stream (after GC, against the same server before the streams), its threads and file descriptors, and its CPU per
 * delivered event for rounds of events to every stream.
 *
 * <pre>
 * bench/run http2                                    # handoff-tomcat and handoff-jetty, 4,000 streams
 * bench/run http2 --servers=handoff-jetty --streams=2000
 * </pre>
 */
public final class Http2Bench {

    static final int PER_CONNECTION = 100;
    private static final int ROUNDS = 10;
    private static final int EVENTS = 5;
    private static final int SIZE = 256;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private Http2Bench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Bench.options(args, "--servers=a,b --out=dir --java=path --streams=N");
        List<String> servers = Arrays.asList(options.getOrDefault("servers", "handoff-tomcat,handoff-jetty").split(","));
        Path out = Path.of(options.getOrDefault("out", "bench/results/http2"));
        String java = options.getOrDefault("java", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        int streams = Integer.parseInt(options.getOrDefault("streams", "4000"));
        Files.createDirectories(out);
        List<String> rows = new ArrayList<>();
        for (String server : servers) {
            Measured h1 = null;
            for (boolean h2 : new boolean[] {false, true}) {
                String label = server + (h2 ? ", HTTP/2 (h2c)" : ", HTTP/1.1");
                System.out.println("== " + label);
                try (ServerProcess p = ServerProcess.start(server, "dev.handoff.bench.server.ServerMain",
                        List.of("--server.http2.enabled=true"), java, out.resolve("logs").resolve(server))) {
                    Measured m = h2 ? http2(p, streams) : http1(p, streams);
                    if (!h2) {
                        h1 = m;
                    }
                    rows.add(m.row(label, h1));
                    System.out.println(rows.get(rows.size() - 1));
                }
            }
        }
        String report = "# What a stream costs over HTTP/2 against HTTP/1.1\n\n"
                + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME) + "; " + Runtime.getRuntime()
                .availableProcessors() + " cores; servers on " + java + " (" + String.join(" ", ServerProcess.JVM_FLAGS)
                + "), started with --server.http2.enabled=true; HTTP/2 over cleartext with prior knowledge, "
                + PER_CONNECTION + " streams per connection\n\n"
                + "| run | open | heap per stream | threads | fds | CPU per delivery | deliveries |\n|---|---|---|---|---|---|---|\n"
                + String.join("\n", rows) + "\n";
        Files.writeString(out.resolve("results.md"), report);
        System.out.println(report);
    }

    /** What one protocol cost on one server. */
    private record Measured(int open, double heapPerStream, int threads, int fds, double cpuPerDelivery, long deliveries,
            String note) {
        Measured withNote(String more) {
            return new Measured(open, heapPerStream, threads, fds, cpuPerDelivery, deliveries, note + more);
        }

        String row(String label, Measured h1) {
            String ratio = h1 == null || h1 == this ? "" : String.format(Locale.ROOT, " (%.2fx)", heapPerStream
                    / h1.heapPerStream);
            String cpuRatio = h1 == null || h1 == this ? "" : String.format(Locale.ROOT, " (%.2fx)", cpuPerDelivery
                    / h1.cpuPerDelivery);
            return String.format(Locale.ROOT, "| %s | %d | %.1f KiB%s | %d | %d | %.2f us%s | %d%s |", label, open,
                    heapPerStream / 1024, ratio, threads, fds, cpuPerDelivery, cpuRatio, deliveries, note);
        }
    }

    private static Measured http1(ServerProcess p, int streams) throws Exception {
        Control.Stats before = p.control.stats(true);
        try (LoadClient c = new LoadClient(new InetSocketAddress("127.0.0.1", p.port), 4, "/sse")) {
            c.ramp(streams, Math.min(Scenario.RAMP_PER_SECOND, streams), 0);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (c.established.get() < streams && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            return rounds(p, before, c.established.get(), c::reached);
        }
    }

    private static Measured http2(ServerProcess p, int streams) throws Exception {
        Control.Stats before = p.control.stats(true);
        HTTP2Client client = new HTTP2Client();
        client.start();
        try {
            List<H2Sse> all = new ArrayList<>();
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                if (i % PER_CONNECTION == 0) {
                    sessions.add(client.connect(new InetSocketAddress("127.0.0.1", p.port), new Session.Listener() {
                    }).get(10, TimeUnit.SECONDS));
                }
                H2Sse s = new H2Sse();
                MetaData.Request request = new MetaData.Request("GET", HttpURI.from("http://127.0.0.1:" + p.port + "/sse"),
                        HttpVersion.HTTP_2, HttpFields.EMPTY);
                sessions.get(sessions.size() - 1).newStream(new HeadersFrame(request, null, true), s)
                        .get(10, TimeUnit.SECONDS);
                all.add(s);
            }
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (p.control.stats(false).subscribers() < streams && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Measured m = rounds(p, before, p.control.stats(false).subscribers(), seq -> reached(all, seq));
            int failed = (int) all.stream().filter(s -> s.failed.get() > 0).count();
            return failed == 0 ? m : m.withNote("; " + failed + " streams failed");
        } finally {
            client.stop();
        }
    }

    /** How many of the open streams have the event numbered {@code seq} (or a later one). */
    @FunctionalInterface
    private interface Reached {
        int streams(long seq) throws Exception;
    }

    /**
     * With {@code open} streams held: the heap per stream against {@code before}, then rounds of events to all of
     * them, each until every stream has its last event, and the CPU per delivery over the rounds after the first.
     */
    private static Measured rounds(ServerProcess p, Control.Stats before, int open, Reached reached) throws Exception {
        Control.Stats held = p.control.stats(true);
        long cpuStart = 0;
        String note = "";
        int counted = 0;
        for (int round = 0; round <= ROUNDS; round++) {
            if (round == 1) {
                cpuStart = p.control.stats(false).cpuNanos();
            }
            long[] range = p.control.publish(EVENTS, SIZE, DEADLINE);
            long until = System.nanoTime() + DEADLINE.toNanos();
            while (reached.streams(range[1]) < open && System.nanoTime() < until) {
                Thread.sleep(2);
            }
            if (reached.streams(range[1]) < open) {
                note = "; round " + round + ": " + reached.streams(range[1]) + " of " + open + " got the last event";
                break;
            }
            counted += round > 0 ? 1 : 0;
        }
        long cpu = p.control.stats(false).cpuNanos() - cpuStart;
        long deliveries = (long) counted * EVENTS * open;
        return new Measured(open, (held.heapUsed() - before.heapUsed()) / (double) open, held.threads(), held.fds(),
                deliveries == 0 ? Double.NaN : cpu / 1e3 / deliveries, deliveries, note);
    }

    private static int reached(List<H2Sse> all, long seq) {
        int n = 0;
        for (H2Sse s : all) {
            if (s.lastId.get() >= seq) {
                n++;
            }
        }
        return n;
    }

    /** One SSE stream over HTTP/2: reads as data comes and keeps the last sequence number ({@code {"seq":n,...}}) it saw. */
    private static final class H2Sse implements Stream.Listener {
        final AtomicLong lastId = new AtomicLong(-1);
        final AtomicInteger failed = new AtomicInteger();
        private final StringBuilder line = new StringBuilder();

        @Override
        public void onHeaders(Stream stream, HeadersFrame frame) {
            if (frame.getMetaData() instanceof MetaData.Response r && r.getStatus() != 200) {
                failed.incrementAndGet();
            }
            stream.demand();
        }

        @Override
        public void onDataAvailable(Stream stream) {
            Stream.Data data = stream.readData();
            if (data == null) {
                stream.demand();
                return;
            }
            ByteBuffer b = data.frame().getByteBuffer();
            while (b.hasRemaining()) {
                char c = (char) b.get();
                if (c == '\n') {
                    int at = line.indexOf("\"seq\":");
                    if (line.length() > 5 && line.charAt(0) == 'd' && at >= 0) {
                        long seq = 0;
                        for (int i = at + 6; i < line.length() && Character.isDigit(line.charAt(i)); i++) {
                            seq = seq * 10 + (line.charAt(i) - '0');
                        }
                        lastId.set(seq);
                    }
                    line.setLength(0);
                } else if (line.length() < 64) {
                    line.append(c);
                }
            }
            boolean last = data.frame().isEndStream();
            data.release();
            if (!last) {
                stream.demand();
            }
        }

        @Override
        public void onReset(Stream stream, org.eclipse.jetty.http2.frames.ResetFrame frame, org.eclipse.jetty.util.Callback callback) {
            failed.incrementAndGet();
            callback.succeeded();
        }
    }
}
