package dev.handoff.bench.run;

import dev.handoff.bench.proxy.ProxyServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The streaming proxy measured the way it is run: a real backend in a process of its own (nginx, serving files
 * from the page cache), each proxy in a process of its own, and the client in a third (curl), every proxy in
 * the same run. For each proxy: one large download (best of two), many concurrent downloads (aggregate rate,
 * the heap's peak and its live size half-way), and many slow clients (live heap per exchange after a
 * collection, threads); nginx straight is the ceiling.
 *
 * <pre>
 * bench/run proxy                                  # every proxy (about 5 minutes here)
 * bench/run proxy --servers=handoff-jetty,async-proxy-servlet --size-mib=256
 * </pre>
 */
public final class ProxyBench {

    private static final long MIB = 1L << 20;

    private ProxyBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Bench.options(args, "--servers=a,b --out=dir --java=path --size-mib=N "
                + "--concurrent=N --slow=N");
        List<String> servers = options.containsKey("servers") ? Arrays.asList(options.get("servers").split(","))
                : ProxyServer.NAMES;
        for (String s : servers) {
            if (!ProxyServer.NAMES.contains(s)) {
                throw new IllegalArgumentException(s + " is not one of " + ProxyServer.NAMES);
            }
        }
        Path out = Path.of(options.getOrDefault("out", "bench/results/proxy"));
        String java = options.getOrDefault("java", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Settings settings = new Settings(Long.parseLong(options.getOrDefault("size-mib", "1024")) * MIB,
                Integer.parseInt(options.getOrDefault("concurrent", "200")), 16 * MIB,
                Integer.parseInt(options.getOrDefault("slow", "200")), 64 * 1024);
        Files.createDirectories(out);
        List<Row> rows = new ArrayList<>();
        // The backend's files (sparse, but a GiB to anything that copies them) go to a temporary folder.
        // Readable by nginx's workers, which run as another user when it is started as root.
        Path backendFiles = Files.createTempDirectory("handoff-proxy-bench",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try (Nginx nginx = Nginx.start(backendFiles, settings)) {
            Curl curl = new Curl(out.resolve("logs"));
            System.out.println("[proxy-bench] nginx on " + nginx.port);
            rows.add(direct(nginx, curl, settings));
            write(out, rows, settings, java);
            for (String server : servers) {
                System.out.println("[proxy-bench] " + server);
                Row row;
                try (ServerProcess p = ServerProcess.start(server, "dev.handoff.bench.proxy.ProxyServer",
                        List.of("http://127.0.0.1:" + nginx.port), java, out.resolve("logs"))) {
                    row = measure(server, p, curl, settings);
                } catch (Exception e) {
                    row = new Row(server);
                    row.note = "failed: " + e;
                }
                rows.add(row);
                write(out, rows, settings, java);
            }
        }
        System.out.println("[proxy-bench] results in " + out.resolve("results.md"));
    }

    record Settings(long bigBytes, int concurrent, long partBytes, int slow, int slowRate) {
    }

    /** One line of the table. */
    static final class Row {
        final String name;
        double singleMBs = Double.NaN;
        double concurrentMBs = Double.NaN;
        double cpuSecondsPerGiB = Double.NaN;
        long heapPeak = -1;
        long heapLiveConcurrent = -1;
        long heapPerSlowExchange = -1;
        int threadsIdle = -1;
        int threadsSlow = -1;
        String note = "";

        Row(String name) {
            this.name = name;
        }
    }

    private static Row direct(Nginx nginx, Curl curl, Settings s) throws Exception {
        Row row = new Row("direct from nginx");
        String base = "http://127.0.0.1:" + nginx.port;
        curl.run("warm-direct", List.of(base + "/part.bin"), Map.of());
        row.singleMBs = Math.max(curl.rate(curl.run("single-direct", List.of(base + "/big.bin"), Map.of()), s.bigBytes),
                curl.rate(curl.run("single-direct", List.of(base + "/big.bin"), Map.of()), s.bigBytes));
        Curl.Run concurrent = curl.run("concurrent-direct", repeat(base + "/part.bin", s.concurrent), Map.of());
        row.concurrentMBs = curl.rate(concurrent, s.partBytes * s.concurrent);
        return row;
    }

    private static Row measure(String name, ServerProcess p, Curl curl, Settings s) throws Exception {
        Row row = new Row(name);
        String base = "http://127.0.0.1:" + p.port + "/proxy";
        // Warm-up: the JIT, the pools, the backend connections.
        curl.run("warm-" + name, repeat(base + "/part.bin", 8), Map.of());
        Control.Stats idle = p.control.stats(true);
        row.threadsIdle = idle.threads();

        long cpu0 = p.control.stats(false).cpuNanos();
        double single = 0;
        for (int i = 0; i < 2; i++) {
            single = Math.max(single, curl.rate(curl.run("single-" + name, List.of(base + "/big.bin"), Map.of()),
                    s.bigBytes));
        }
        row.singleMBs = single;

        // Concurrent downloads, with the heap sampled (no collection) and its live size taken half-way.
        long[] peak = {0};
        long[] live = {-1};
        Curl.Run[] done = new Curl.Run[1];
        Thread client = new Thread(() -> {
            try {
                done[0] = curl.run("concurrent-" + name, repeat(base + "/part.bin", s.concurrent), Map.of());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long started = System.nanoTime();
        client.start();
        while (client.isAlive()) {
            peak[0] = Math.max(peak[0], p.control.stats(false).heapUsed());
            if (live[0] < 0 && System.nanoTime() - started > Duration.ofSeconds(1).toNanos()) {
                live[0] = p.control.stats(true).heapUsed();
            }
            client.join(250);
        }
        if (done[0] == null) {
            throw new IOException("the concurrent downloads failed; see the curl logs");
        }
        long cpu1 = p.control.stats(false).cpuNanos();
        row.concurrentMBs = curl.rate(done[0], s.partBytes * s.concurrent);
        row.heapPeak = peak[0];
        row.heapLiveConcurrent = live[0];
        double gib = (2.0 * s.bigBytes + (s.concurrent + 8.0) * s.partBytes) / (1L << 30);
        row.cpuSecondsPerGiB = (cpu1 - cpu0) / 1e9 / gib;

        // Slow clients: each reads the big file at a fixed low rate, so every exchange stays open and full.
        Control.Stats before = p.control.stats(true);
        // One curl each: in parallel mode curl's --limit-rate is the whole process's.
        List<Process> slow = new ArrayList<>();
        try {
            for (int i = 0; i < s.slow; i++) {
                slow.add(curl.start("slow-" + name + "-" + i, List.of(base + "/big.bin"),
                        Map.of("--limit-rate", Integer.toString(s.slowRate))));
            }
            // Every client connected (the backend's connections may be pooled ones), then a few seconds for
            // every buffer on the way to fill.
            waitFor(Duration.ofSeconds(60), () -> established(p.port) >= s.slow);
            Thread.sleep(5_000);
            Control.Stats held = p.control.stats(true);
            row.heapPerSlowExchange = (held.heapUsed() - before.heapUsed()) / s.slow;
            row.threadsSlow = held.threads();
            // What the slow exchanges hold, by class: the first place to look when the figure is high.
            new ProcessBuilder("jcmd", Long.toString(p.process.pid()), "GC.class_histogram")
                    .redirectErrorStream(true).redirectOutput(curl.logs.resolve("histogram-" + name + ".txt").toFile())
                    .start().waitFor(60, TimeUnit.SECONDS);
        } finally {
            slow.forEach(Process::destroy);
            for (Process c : slow) {
                c.waitFor(10, TimeUnit.SECONDS);
            }
        }
        return row;
    }

    /** Established TCP connections to {@code port}, server side, from the kernel's tables (a Java server's are IPv6). */
    private static int established(int port) {
        String local = String.format(Locale.ROOT, ":%04X", port);
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[1].endsWith(local) && f[3].equals("01")) {
                        n++;
                    }
                }
            } catch (IOException e) {
                return -1;
            }
        }
        return n;
    }

    private static void waitFor(Duration limit, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("not reached within " + limit);
            }
            Thread.sleep(100);
        }
    }

    private static List<String> repeat(String url, int n) {
        List<String> urls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            urls.add(url);
        }
        return urls;
    }

    private static void write(Path out, List<Row> rows, Settings s, String java) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Streaming proxy\n\nRun ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                .append(" on ").append(Runtime.getRuntime().availableProcessors()).append(" cores. nginx (")
                .append("one worker, sendfile) is the backend, curl the client, each proxy a Spring Boot 3.5 app in ")
                .append("a process of its own on ").append(java).append(" (`")
                .append(String.join(" ", ServerProcess.JVM_FLAGS)).append("`); everything on loopback.\n\n")
                .append("- single: one ").append(s.bigBytes / MIB).append(" MiB download, best of two\n")
                .append("- concurrent: ").append(s.concurrent).append(" downloads of ").append(s.partBytes / MIB)
                .append(" MiB at once (curl --parallel), aggregate rate; heap peak sampled every 250 ms, live heap ")
                .append("after a collection 1 s in\n")
                .append("- slow: ").append(s.slow).append(" clients reading at ").append(s.slowRate / 1024)
                .append(" KiB/s; live heap after a collection, less the idle server's, per exchange\n")
                .append("- CPU: the proxy process over the single and concurrent downloads, per GiB moved\n\n")
                .append("| proxy | single MB/s | concurrent MB/s | CPU s/GiB | heap peak MB | live heap MB (concurrent) "
                        + "| live heap per slow exchange KiB | threads idle / slow | note |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s |%n", r.name,
                    r.singleMBs, r.concurrentMBs, r.cpuSecondsPerGiB, mb(r.heapPeak), mb(r.heapLiveConcurrent),
                    r.heapPerSlowExchange < 0 ? "-" : Long.toString(r.heapPerSlowExchange / 1024),
                    r.threadsIdle < 0 ? "-" : r.threadsIdle + " / " + r.threadsSlow, r.note));
        }
        Files.writeString(out.resolve("results.md"), md.toString(), StandardCharsets.UTF_8);
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "-" : Long.toString(bytes / MIB);
    }

    /** nginx serving two files of zeros (sparse, from the page cache) on a free loopback port. */
    static final class Nginx implements AutoCloseable {
        final int port;
        private final Process process;
        private final Path dir;

        private Nginx(int port, Process process, Path dir) {
            this.port = port;
            this.process = process;
            this.dir = dir;
        }

        static Nginx start(Path dir, Settings s) throws Exception {
            Files.createDirectories(dir.resolve("www"));
            try (RandomAccessFile big = new RandomAccessFile(dir.resolve("www/big.bin").toFile(), "rw");
                    RandomAccessFile part = new RandomAccessFile(dir.resolve("www/part.bin").toFile(), "rw")) {
                big.setLength(s.bigBytes);
                part.setLength(s.partBytes);
            }
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            String conf = "worker_processes 1;\nerror_log " + dir.resolve("error.log") + " warn;\npid "
                    + dir.resolve("nginx.pid") + ";\nevents { worker_connections 4096; }\nhttp {\n"
                    + "  access_log off;\n  sendfile on;\n  keepalive_requests 100000;\n"
                    + "  client_body_temp_path " + dir.resolve("tmp") + ";\n"
                    + "  server { listen 127.0.0.1:" + port + "; root " + dir.resolve("www") + "; }\n}\n";
            Files.createDirectories(dir.resolve("tmp"));
            Files.writeString(dir.resolve("nginx.conf"), conf);
            Process process = new ProcessBuilder("nginx", "-p", dir.toString(), "-c", dir.resolve("nginx.conf")
                    .toString(), "-g", "daemon off;").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nginx.out").toFile()).start();
            Nginx nginx = new Nginx(port, process, dir);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IOException("nginx exited with " + process.exitValue() + "; see " + dir);
                }
                try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                    return nginx;
                } catch (IOException notYet) {
                    process.waitFor(100, TimeUnit.MILLISECONDS);
                }
            }
            nginx.close();
            throw new IOException("nginx did not listen within 10 s; see " + dir);
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** curl in a process of its own: every transfer's size, time and status, all in parallel. */
    static final class Curl {
        final Path logs;

        Curl(Path logs) throws IOException {
            this.logs = logs;
            Files.createDirectories(logs);
        }

        record Run(long bytes, long nanos, int failed) {
        }

        Process start(String label, List<String> urls, Map<String, String> options) throws IOException {
            Path config = logs.resolve(label + ".curl");
            StringBuilder c = new StringBuilder();
            for (String url : urls) {
                c.append("url = \"").append(url).append("\"\noutput = \"/dev/null\"\n");
            }
            Files.writeString(config, c);
            List<String> command = new ArrayList<>(List.of("curl", "--silent", "--show-error", "--parallel",
                    "--parallel-max", Integer.toString(Math.max(1, urls.size())), "--config", config.toString(),
                    "--write-out", "%{http_code} %{size_download}\\n"));
            options.forEach((k, v) -> command.addAll(List.of(k, v)));
            return new ProcessBuilder(command).redirectOutput(logs.resolve(label + ".out").toFile())
                    .redirectError(logs.resolve(label + ".err").toFile()).start();
        }

        Run run(String label, List<String> urls, Map<String, String> options) throws Exception {
            long start = System.nanoTime();
            Process p = start(label, urls, options);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("curl " + label + " did not finish within 10 minutes");
            }
            long nanos = System.nanoTime() - start;
            long bytes = 0;
            int failed = 0;
            for (String line : Files.readAllLines(logs.resolve(label + ".out"))) {
                String[] parts = line.trim().split(" ");
                if (parts.length != 2) {
                    continue;
                }
                if (!parts[0].equals("200")) {
                    failed++;
                }
                bytes += Long.parseLong(parts[1]);
            }
            return new Run(bytes, nanos, failed);
        }

        /** MB/s (10^6 bytes) of a run that moved {@code expected} bytes; NaN if it did not. */
        double rate(Run run, long expected) {
            if (run.failed > 0 || run.bytes != expected) {
                System.out.println("[proxy-bench] a run moved " + run.bytes + " of " + expected + " bytes, "
                        + run.failed + " transfers failed");
                return Double.NaN;
            }
            return run.bytes / 1e6 / (run.nanos / 1e9);
        }
    }
}
