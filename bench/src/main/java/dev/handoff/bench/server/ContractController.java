package dev.handoff.bench.server;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /publish}, {@code /hello} and {@code /stats}, identical on every server (Spring MVC and WebFlux
 * both map this class).
 */
@RestController
public class ContractController {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Broadcaster broadcaster;

    public ContractController(Broadcaster broadcaster) {
        this.broadcaster = broadcaster;
    }

    @PostMapping("/publish")
    public Map<String, Long> publish(@RequestParam(defaultValue = "1") int n, @RequestParam(defaultValue = "64") int size,
            @RequestParam(defaultValue = "bench") String topic, @RequestParam(required = false) String event,
            @RequestBody(required = false) String body) {
        if (n < 1 || n > 100_000 || size < 0 || size > 1 << 20) {
            throw new IllegalArgumentException("n must be 1..100000 and size 0..1048576: n=" + n + ", size=" + size);
        }
        long start = System.nanoTime();
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        long first = Payload.reserve(n);
        for (long seq = first; seq < first + n; seq++) {
            broadcaster.send(topic, event, Payload.data(seq, size, body));
        }
        // How long the publishing code was held, measured where it runs: the round trip adds the network
        // and both ends' scheduling under load.
        // The CPU time tells the two apart on a shared machine: the rest of the wall time the thread waited
        // for a core (or a lock).
        long callNanos = System.nanoTime() - start;
        long callCpuNanos = THREADS.getCurrentThreadCpuTime() - cpuStart;
        return Map.of("first", first, "last", first + n - 1, "callNanos", callNanos, "callCpuNanos", callCpuNanos);
    }

    @GetMapping("/hello")
    public String hello() {
        return "ok";
    }

    @GetMapping("/stats")
    public Map<String, Object> stats(@RequestParam(defaultValue = "false") boolean gc) {
        return JvmStats.read(broadcaster.subscribers(), gc);
    }
}
