package dev.handoff.bench.server;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What {@code /stats} reports of the server's own process; the same code for every server. */
public final class JvmStats {

    private JvmStats() {
    }

    public static Map<String, Object> read(int subscribers, boolean gc) {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("subscribers", subscribers);
        if (gc) {
            // Two collections: the first may leave garbage that only a finalization-free second one clears.
            System.gc();
            System.gc();
        }
        stats.put("heapUsed", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        stats.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        stats.put("rss", rssBytes());
        String[] fds = new File("/proc/self/fd").list();
        stats.put("fds", fds == null ? -1 : fds.length);
        stats.put("cpuNanos", cpuNanos());
        return stats;
    }

    /** The CPU time of the whole process (every thread, GC and JIT included), or -1 where the JVM does not say. */
    private static long cpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
