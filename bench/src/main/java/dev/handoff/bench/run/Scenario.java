package dev.handoff.bench.run;

import dev.handoff.bench.client.LoadClient;
import dev.handoff.bench.client.Round;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Arrays;

/**
 * One scenario: open {@code streams} SSE connections at a bounded rate (a fraction stalled), measure the
 * server idle, then broadcast {@code rounds} rounds of {@code events} events of {@code size} bytes and
 * measure every (client, event); or, for churn, cycle connections for a fixed time. Every wait has a deadline.
 */
record Scenario(String name, int streams, double stalled, int rounds, int events, int size, Duration roundDeadline,
        boolean churn) {

    /** Connections opened per second at most. */
    static final int RAMP_PER_SECOND = 2000;
    static final int HELLO_REQUESTS = 200;
    static final int CHURN_CONCURRENT = 200;
    static final Duration CHURN_LENGTH = Duration.ofSeconds(10);

    static Scenario idle(int streams) {
        return new Scenario("idle-" + (streams >= 1000 ? streams / 1000 + "k" : streams), streams, 0, 10, 5, 256,
                Duration.ofSeconds(30), false);
    }

    /** Bursts of 4 KiB events, 2 MiB per stream per round: the baseline of the stalled scenario. */
    static Scenario burst(double stalled) {
        return new Scenario(stalled > 0 ? "stalled-1k" : "burst-1k", 1000, stalled, 4, 512, 4096,
                Duration.ofSeconds(60), false);
    }

    static Scenario churning() {
        return new Scenario("churn", 0, 0, 0, 0, 0, Duration.ZERO, true);
    }

    Result run(ServerProcess server, Progress progress) throws Exception {
        Result r = new Result(server.name, name);
        r.target = streams;
        Control control = server.control;
        Control.Stats base = control.stats(true);
        r.heapBase = base.heapUsed();
        r.rssBase = base.rss();
        r.threadsBase = base.threads();
        try (LoadClient client = new LoadClient(new InetSocketAddress("127.0.0.1", server.port), 8, "/sse")) {
            if (churn) {
                churn(client, control, r, progress);
            } else {
                streams(client, control, r, progress);
            }
        }
        return r;
    }

    private void streams(LoadClient client, Control control, Result r, Progress progress) throws Exception {
        int rate = Math.min(RAMP_PER_SECOND, streams);
        client.ramp(streams, rate, stalled);
        long deadline = System.nanoTime() + Duration.ofSeconds(streams / rate + 30).toNanos();
        while (System.nanoTime() < deadline && (client.rampRemaining() > 0 || client.pending() > 0)) {
            progress.status("ramping: " + client.established.get() + " of " + streams + " streams open");
            Thread.sleep(50);
        }
        int unanswered = client.closeUnestablished();
        r.established = client.established.get();
        r.stalled = (int) Math.round(streams * stalled);
        if (unanswered > 0 || client.failed.get() > 0 || client.refused.get() > 0) {
            r.note(r.established + " of " + streams + " streams opened (" + client.refused.get() + " refused, "
                    + client.failed.get() + " failed or unanswered)");
        }
        if (!measure(control, r, "after the ramp")) {
            return;
        }
        if (!hello(control, r)) {
            return;
        }
        broadcast(client, control, r, progress);
        r.dropped = client.dropped.get();
        if (stalled > 0) {
            measure(control, r, "after the rounds");
        }
    }

    /** Heap after a forced collection, RSS and threads; false if the server could not answer. */
    private static boolean measure(Control control, Result r, String when) throws InterruptedException {
        try {
            Control.Stats s = control.stats(true);
            r.heapAfterGc = s.heapUsed();
            r.rss = s.rss();
            r.threads = s.threads();
            return true;
        } catch (IOException e) {
            r.note("/stats " + when + " got no answer (" + e + ")");
            return false;
        }
    }

    private static boolean hello(Control control, Result r) throws InterruptedException {
        long[] samples = new long[HELLO_REQUESTS];
        for (int i = -HELLO_REQUESTS / 4; i < HELLO_REQUESTS; i++) {
            try {
                long nanos = control.hello(Duration.ofSeconds(5));
                if (i >= 0) {
                    samples[i] = nanos;
                }
            } catch (IOException e) {
                r.note("/hello got no answer in 5 s (" + e.getClass().getSimpleName() + ")");
                return false;
            }
        }
        long[] sorted = Result.sorted(samples);
        r.helloP50 = Result.percentileMillis(sorted, 50);
        r.helloP99 = Result.percentileMillis(sorted, 99);
        return true;
    }

    private void broadcast(LoadClient client, Control control, Result r, Progress progress) throws Exception {
        long[] latencies = new long[0];
        long[] publishes = new long[rounds];
        long[] calls = new long[rounds];
        long[] callCpu = new long[rounds];
        int done = 0;
        long cpuAtStart = -1;
        // Round 0 warms the server and the client up; it is not counted.
        for (int round = 0; round <= rounds; round++) {
            if (round == 1) {
                cpuAtStart = control.stats(false).cpuNanos();
            }
            progress.status("round " + round + " of " + rounds + ": " + events + " events of " + size + " B");
            int healthy = client.healthyOpen();
            long sent = System.nanoTime();
            long[] range;
            try {
                range = control.publish(events, size, roundDeadline);
            } catch (HttpTimeoutException e) {
                r.note("round " + round + ": /publish did not return within " + roundDeadline.toSeconds() + " s");
                break;
            }
            long publishNanos = System.nanoTime() - sent;
            long deadline = sent + roundDeadline.toNanos();
            int reached;
            while ((reached = client.reached(range[1])) < healthy && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            Round result = client.collect(range[0], range[1], sent);
            if (round == 0) {
                if (reached < healthy) {
                    r.note("warm-up round: " + reached + " of " + healthy + " healthy clients got the last event within "
                            + roundDeadline.toSeconds() + " s");
                    break;
                }
                continue;
            }
            publishes[done] = publishNanos;
            calls[done] = range[2];
            callCpu[done] = range[3];
            long[] more = result.latencies();
            latencies = Arrays.copyOf(latencies, latencies.length + more.length);
            System.arraycopy(more, 0, latencies, latencies.length - more.length, more.length);
            r.connectionRounds += result.connections();
            r.completeConnectionRounds += result.complete();
            r.events += more.length;
            done++;
            if (reached < healthy) {
                r.note("round " + round + ": " + reached + " of " + healthy + " healthy clients got the last "
                        + "event within " + roundDeadline.toSeconds() + " s");
                break;
            }
        }
        r.rounds = done;
        if (done > 0 && cpuAtStart >= 0) {
            long cpuAtEnd = control.stats(false).cpuNanos();
            r.roundsCpuNanos = cpuAtEnd < 0 ? -1 : cpuAtEnd - cpuAtStart;
        }
        r.deliveredBytes = r.events * size;
        long[] sorted = Result.sorted(latencies);
        r.fanoutP50 = Result.percentileMillis(sorted, 50);
        r.fanoutP99 = Result.percentileMillis(sorted, 99);
        r.fanoutMax = Result.percentileMillis(sorted, 100);
        long[] publishSorted = Result.sorted(Arrays.copyOf(publishes, done));
        r.publishP50 = Result.percentileMillis(publishSorted, 50);
        r.publishP99 = Result.percentileMillis(publishSorted, 99);
        long[] callSorted = Result.sorted(Arrays.copyOf(calls, done));
        r.publishCallP50 = Result.percentileMillis(callSorted, 50);
        r.publishCallP99 = Result.percentileMillis(callSorted, 99);
        r.publishCallCpuP99 = Result.percentileMillis(Result.sorted(Arrays.copyOf(callCpu, done)), 99);
    }

    private static void churn(LoadClient client, Control control, Result r, Progress progress) throws Exception {
        client.churn(CHURN_CONCURRENT, CHURN_LENGTH);
        long start = System.nanoTime();
        long deadline = start + CHURN_LENGTH.plusSeconds(30).toNanos();
        while (System.nanoTime() < deadline && client.churnOpen() > 0) {
            progress.status("churn: " + client.churnCycles.get() + " connections so far");
            Thread.sleep(50);
        }
        long cycles = client.churnCycles.get();
        r.churnPerSecond = cycles / (double) CHURN_LENGTH.toSeconds();
        r.established = (int) cycles;
        if (client.failed.get() > 0) {
            r.note(client.failed.get() + " connections failed");
        }
        // Streams the server still counts after every client left: found by its heartbeat, or leaked.
        long settle = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Control.Stats s = control.stats(false);
        while (s.subscribers() > 0 && System.nanoTime() < settle) {
            progress.status("churn: waiting for the server to count " + s.subscribers() + " closed streams out");
            Thread.sleep(100);
            s = control.stats(false);
        }
        r.leftOpen = s.subscribers();
        measure(control, r, "after churn");
    }
}
