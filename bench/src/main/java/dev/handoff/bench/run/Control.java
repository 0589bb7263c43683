package dev.handoff.bench.run;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The bench's own requests to a server: publish, hello, stats. Plain HTTP/1.1 on the JDK client. */
final class Control {

    /** What {@code /stats} said. */
    record Stats(int subscribers, long heapUsed, int threads, long rss, int fds, long cpuNanos) {
    }

    private static final Pattern NUMBER = Pattern.compile("\"(\\w+)\":(-?\\d+)");

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    Control(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    boolean helloOnce() {
        try {
            return hello(Duration.ofSeconds(2)) >= 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** @return the round trip in nanoseconds */
    long hello(Duration timeout) throws IOException, InterruptedException {
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/hello")).timeout(timeout).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().equals("ok")) {
            throw new IOException("/hello answered " + r.statusCode() + " " + r.body());
        }
        return System.nanoTime() - start;
    }

    /** @return {first, last, nanoseconds the server spent in the publish call, CPU nanoseconds of that call} */
    long[] publish(int n, int size, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/publish?n=" + n + "&size=" + size))
                .timeout(timeout).POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("/publish answered " + r.statusCode() + " " + r.body());
        }
        return new long[] {number(r.body(), "first"), number(r.body(), "last"), number(r.body(), "callNanos"),
                number(r.body(), "callCpuNanos")};
    }

    Stats stats(boolean gc) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/stats?gc=" + gc))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        String b = r.body();
        return new Stats((int) number(b, "subscribers"), number(b, "heapUsed"), (int) number(b, "threads"),
                number(b, "rss"), (int) number(b, "fds"), number(b, "cpuNanos"));
    }

    private static long number(String json, String name) throws IOException {
        Matcher m = NUMBER.matcher(json);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return Long.parseLong(m.group(2));
            }
        }
        throw new IOException("no \"" + name + "\" in " + json);
    }
}
