package dev.handoff.bench.client;

import java.util.Arrays;

/** One broadcast round as the healthy clients saw it: every (client, event) latency, and who got everything. */
public final class Round {

    final long first;
    final long last;
    private long[] latencies = new long[1024];
    private int count;
    int connections;
    int complete;

    Round(long first, long last) {
        this.first = first;
        this.last = last;
    }

    void latency(long nanos) {
        if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = nanos;
    }

    void connection(boolean gotEverything) {
        connections++;
        if (gotEverything) {
            complete++;
        }
    }

    public long[] latencies() {
        return Arrays.copyOf(latencies, count);
    }

    public int connections() {
        return connections;
    }

    public int complete() {
        return complete;
    }
}
