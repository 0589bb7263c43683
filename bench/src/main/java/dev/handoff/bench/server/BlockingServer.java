package dev.handoff.bench.server;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The ActionController::Live way: the request thread stays in a loop, taking frames from its own queue and
 * writing them with blocking I/O, a heartbeat when idle. Run on platform threads (Tomcat's pool of 200) or on
 * virtual threads ({@code spring.threads.virtual.enabled}, JDK 21+). Frames are encoded once per event.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ContractController.class, BlockingServer.Sse.class})
public class BlockingServer {

    static final Set<BlockingQueue<byte[]>> QUEUES = ConcurrentHashMap.newKeySet();
    private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.UTF_8);

    @RestController
    static class Sse {
        @GetMapping("/sse")
        void sse(HttpServletResponse response) throws IOException, InterruptedException {
            response.setContentType("text/event-stream");
            response.setHeader("Cache-Control", "no-cache");
            BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
            QUEUES.add(queue);
            try {
                OutputStream out = response.getOutputStream();
                response.flushBuffer();
                while (true) {
                    byte[] frame = queue.poll(ServerMain.HEARTBEAT_SECONDS, TimeUnit.SECONDS);
                    out.write(frame == null ? HEARTBEAT : frame);
                    out.flush();
                }
            } catch (IOException gone) {
                // The client left: the loop ends, and with it the request.
            } finally {
                QUEUES.remove(queue);
            }
        }
    }

    static byte[] frame(String event, String data) {
        StringBuilder frame = new StringBuilder(data.length() + 64);
        if (event != null) {
            frame.append("event: ").append(event).append('\n');
        }
        for (String line : data.split("\n", -1)) {
            frame.append("data: ").append(line).append('\n');
        }
        return frame.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    @Bean
    Broadcaster broadcaster() {
        return new Broadcaster() {
            @Override
            public int subscribers() {
                return QUEUES.size();
            }

            @Override
            public void send(String topic, String event, String data) {
                byte[] frame = frame(event, data);
                QUEUES.forEach(q -> q.offer(frame));
            }
        };
    }
}
