package dev.handoff.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real {@code redis-server} (Debian's package; {@code .ci/run} installs it) on a free loopback port, started
 * before a test class and stopped after it, without persistence. Where the binary is missing the tests fail with
 * how to install it: a missing server is never a skipped test.
 *
 * <pre>{@code
 * @RegisterExtension static final RedisServer redis = new RedisServer();
 * }</pre>
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {

    private static final List<Path> PLACES = List.of(Path.of("/usr/bin/redis-server"),
            Path.of("/usr/local/bin/redis-server"));

    private final boolean persistent;
    private Process process;
    private Path dir;
    private int port;

    /** A server without persistence: a restart loses everything. */
    public RedisServer() {
        this(false);
    }

    /** With {@code persistent}, an append-only file written on every command: a restart keeps every entry. */
    public RedisServer(boolean persistent) {
        this.persistent = persistent;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Stops the server and starts a new one on the same port, with none of the old one's data. */
    public void restartEmpty() throws Exception {
        stop();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals("redis.log")) {
                    deleteRecursively(f);
                }
            }
        }
        launch();
    }

    /** Stops the server and starts it again on the same port and directory: with persistence, its data is back. */
    public void restart() throws Exception {
        stop();
        launch();
    }

    /** Stops the server: connections to it are refused until {@link #up()}. */
    public void down() throws Exception {
        stop();
    }

    /** Starts a stopped server again on the same port and directory (with persistence, with its data). */
    public void up() throws Exception {
        launch();
    }

    /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
    public void pause() throws Exception {
        signal("STOP");
    }

    /** Lets a paused server go on (SIGCONT). */
    public void resume() throws Exception {
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (var files = Files.list(p)) {
                for (Path f : files.toList()) {
                    deleteRecursively(f);
                }
            }
        }
        Files.delete(p);
    }

    void start() throws Exception {
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        dir = Files.createTempDirectory("handoff-redis");
        launch();
    }

    private void launch() throws Exception {
        Path binary = PLACES.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new IllegalStateException(
                "these tests need a real redis-server at /usr/bin/redis-server: install Debian's with "
                        + "`sudo apt-get install -y redis-server` (.ci/run does this in CI)"));
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--dir", dir.toString(), "--daemonize", "no"));
        command.addAll(persistent ? List.of("--appendonly", "yes", "--appendfsync", "always")
                : List.of("--appendonly", "no"));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + ": "
                        + Files.readString(dir.resolve("redis.log")));
            }
            if (ping()) {
                return;
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
        stop();
        throw new IllegalStateException("redis-server did not answer PING within 10 s on port " + port);
    }

    void stop() throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    private boolean ping() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] answer = new byte[7];
            int n = in.readNBytes(answer, 0, 7);
            return new String(answer, 0, n, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }
}
