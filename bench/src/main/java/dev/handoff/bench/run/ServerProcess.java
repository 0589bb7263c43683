package dev.handoff.bench.run;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One comparison server in a process of its own, started fresh for each scenario. */
final class ServerProcess implements AutoCloseable {

    /** The same heap and collector for every server. */
    static final List<String> JVM_FLAGS = List.of("-Xms2g", "-Xmx2g", "-XX:+UseG1GC", "-XX:+AlwaysPreTouch");

    final String name;
    final int port;
    final Control control;
    final Process process;

    private ServerProcess(String name, int port, Process process) {
        this.name = name;
        this.port = port;
        this.process = process;
        this.control = new Control(port);
    }

    /** The JDK a server runs on: virtual threads need 21+, so that one runs on the newer JDK beside the default. */
    static String javaFor(String server, String java17, String javaVirtual) {
        return server.equals("blocking-virtual") ? javaVirtual : java17;
    }

    static ServerProcess start(String name, String java, Path logDir) throws Exception {
        return start(name, "dev.handoff.bench.server.ServerMain", List.of(), java, logDir);
    }

    /** Runs {@code mainClass <name> <port> <extraArgs...>} on the bench's class path and waits for its /hello. */
    static ServerProcess start(String name, String mainClass, List<String> extraArgs, String java, Path logDir)
            throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(JVM_FLAGS);
        // Extra flags for a profiling run, e.g. BENCH_JVM_FLAGS=-XX:StartFlightRecording=filename=/tmp/s.jfr
        String extra = System.getenv("BENCH_JVM_FLAGS");
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass, name, Integer.toString(port)));
        command.addAll(extraArgs);
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        ServerProcess server = new ServerProcess(name, port, process);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " during start; see " + log);
            }
            if (server.control.helloOnce()) {
                return server;
            }
            process.waitFor(200, TimeUnit.MILLISECONDS);
        }
        server.close();
        throw new IOException(name + " did not answer /hello within 90 s; see " + log);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
