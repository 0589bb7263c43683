package dev.handoff.bench.run;

import java.util.Arrays;

/**
 * What one scenario measured on one server. Times in milliseconds, memory in bytes; NaN or -1 where the
 * server could not be measured (the note says why).
 */
final class Result {

    final String server;
    final String scenario;
    int target;
    int established;
    int stalled;
    /** Fan-out latency over every (healthy client, event): POST sent → event read. */
    double fanoutP50 = Double.NaN;
    double fanoutP99 = Double.NaN;
    double fanoutMax = Double.NaN;
    long events;
    int rounds;
    int connectionRounds;
    int completeConnectionRounds;
    /** The /publish round trip, measured by the bench: POST sent → answer read. */
    double publishP50 = Double.NaN;
    double publishP99 = Double.NaN;
    /** The publish call itself, measured by the server around its loop over the events. */
    double publishCallP50 = Double.NaN;
    double publishCallP99 = Double.NaN;
    /** The CPU time of that call: the rest of its wall time it waited for a core. */
    double publishCallCpuP99 = Double.NaN;
    /** The server process's CPU time over the counted rounds (every thread: container, pool, GC, JIT). */
    long roundsCpuNanos = -1;
    /** The bytes of the events counted in {@link #events} (deliveries to healthy clients). */
    long deliveredBytes;
    double helloP50 = Double.NaN;
    double helloP99 = Double.NaN;
    long heapBase = -1;
    long heapAfterGc = -1;
    long rssBase = -1;
    long rss = -1;
    int threadsBase = -1;
    int threads = -1;
    double churnPerSecond = Double.NaN;
    int leftOpen = -1;
    int dropped;
    String note = "";

    Result(String server, String scenario) {
        this.server = server;
        this.scenario = scenario;
    }

    /** Every healthy client got every event of every round, in order. */
    boolean complete() {
        return rounds > 0 && connectionRounds > 0 && completeConnectionRounds == connectionRounds;
    }

    /** Server CPU microseconds per delivery of one event to one healthy client; NaN if not measured. */
    double cpuMicrosPerDelivery() {
        return roundsCpuNanos < 0 || events == 0 ? Double.NaN : roundsCpuNanos / 1000.0 / events;
    }

    /** Server CPU nanoseconds per delivered byte; NaN if not measured. */
    double cpuNanosPerByte() {
        return roundsCpuNanos < 0 || deliveredBytes == 0 ? Double.NaN : roundsCpuNanos / (double) deliveredBytes;
    }

    double heapPerStreamKiB() {
        return heapBase < 0 || heapAfterGc < 0 || established == 0 ? Double.NaN
                : (heapAfterGc - heapBase) / 1024.0 / established;
    }

    double rssPerStreamKiB() {
        return rssBase < 0 || rss < 0 || established == 0 ? Double.NaN : (rss - rssBase) / 1024.0 / established;
    }

    void note(String more) {
        note = note.isEmpty() ? more : note + "; " + more;
    }

    /** Percentile of nanosecond samples, in milliseconds. */
    static double percentileMillis(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int at = (int) Math.ceil(p / 100.0 * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, at))] / 1e6;
    }

    static long[] sorted(long[] samples) {
        long[] copy = samples.clone();
        Arrays.sort(copy);
        return copy;
    }
}
