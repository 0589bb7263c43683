package dev.handoff.bench.run;

import dev.handoff.bench.server.ServerMain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs the comparison: every chosen server through every chosen scenario, a fresh server process each time,
 * and writes {@code results.md} and the charts after each scenario (an interrupted run keeps what it measured).
 *
 * <pre>
 * bench/run                                              # everything
 * bench/run --servers=handoff-tomcat,emitter-tomcat --scenarios=idle-1k,idle-10k
 * bench/run --java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java   # every server on JDK 25
 * </pre>
 */
public final class Bench {

    private static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();

    static {
        for (Scenario s : List.of(Scenario.idle(1000), Scenario.idle(10_000), Scenario.idle(19_000),
                Scenario.burst(0), Scenario.burst(0.1), Scenario.churning())) {
            SCENARIOS.put(s.name(), s);
        }
    }

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args, "--servers=a,b --scenarios=x,y --out=dir --java=path "
                + "--java-virtual=path");
        List<String> servers = pick(options.getOrDefault("servers", "all"), ServerMain.NAMES);
        List<String> scenarios = pick(options.getOrDefault("scenarios", "all"), List.copyOf(SCENARIOS.keySet()));
        Path out = Path.of(options.getOrDefault("out", "bench/results"));
        // Every server but blocking-virtual runs on --java (default: the JVM running the bench, 17 here).
        String java17 = options.getOrDefault("java", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String javaVirtual = options.getOrDefault("java-virtual", findJdk21Plus());
        if (servers.contains("blocking-virtual") && javaVirtual == null) {
            throw new IllegalStateException("blocking-virtual needs a JDK 21+; pass --java-virtual=/path/to/bin/java");
        }

        String header = header(java17, javaVirtual);
        List<Result> results = new ArrayList<>();
        Progress progress = new Progress(servers.size() * scenarios.size());
        for (String server : servers) {
            int heldUpTo = Integer.MAX_VALUE;
            for (String name : scenarios) {
                Scenario scenario = SCENARIOS.get(name);
                progress.next(server, name);
                Result result;
                if (name.startsWith("idle-") && scenario.streams() > heldUpTo) {
                    result = new Result(server, name);
                    result.target = scenario.streams();
                    result.note("skipped: held only " + heldUpTo + " streams at a smaller N");
                } else {
                    result = runOne(server, scenario, ServerProcess.javaFor(server, java17, javaVirtual), out, progress);
                    if (name.startsWith("idle-") && result.established < 0.9 * scenario.streams()) {
                        heldUpTo = result.established;
                    }
                }
                results.add(result);
                progress.print("done" + (result.note.isEmpty() ? "" : " (" + result.note + ")"));
                new Report(results, header).write(out);
            }
        }
        System.out.println("[bench] results in " + out.resolve("results.md"));
    }

    private static Result runOne(String server, Scenario scenario, String java, Path out, Progress progress) {
        try (ServerProcess process = ServerProcess.start(server, java, out.resolve("logs"))) {
            return scenario.run(process, progress);
        } catch (Exception e) {
            Result failed = new Result(server, scenario.name());
            failed.target = scenario.streams();
            failed.note("failed: " + e);
            return failed;
        }
    }

    /** {@code --name=value} arguments by name; anything else is refused with {@code usage}. */
    static Map<String, String> options(String[] args, String usage) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("options are " + usage + "; not " + arg);
            }
            options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        return options;
    }

    private static List<String> pick(String chosen, List<String> known) {
        if (chosen.equals("all")) {
            return known;
        }
        List<String> picked = Arrays.asList(chosen.split(","));
        for (String p : picked) {
            if (!known.contains(p)) {
                throw new IllegalArgumentException(p + " is not one of " + known);
            }
        }
        return picked;
    }

    /** The newest JDK under /usr/lib/jvm with virtual threads (21+), or null. */
    private static String findJdk21Plus() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (Stream<Path> dirs = Files.list(jvms)) {
            return dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")) && feature(d) >= 21)
                    .max((a, b) -> Integer.compare(feature(a), feature(b))).map(d -> d.resolve("bin/java").toString())
                    .orElse(null);
        }
    }

    private static int feature(Path jdk) {
        try {
            for (String line : Files.readAllLines(jdk.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The first line of {@code java -version}: which JVM a server ran on. */
    private static String versionOf(String java) {
        if (java == null) {
            return "none";
        }
        try {
            Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines().findFirst().orElse("?");
            p.waitFor();
            return first.replace('"', '\'');
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static String header(String java17, String javaVirtual) throws IOException {
        String memory = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
        return "# Handoff benchmarks\n\n"
                + "Run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " on "
                + Runtime.getRuntime().availableProcessors() + " cores, " + memory + ", Linux "
                + System.getProperty("os.version") + ". Client and servers share the machine (loopback only); "
                + "the client is one JVM with one non-blocking loop thread.\n\n"
                + "- Servers: Spring Boot 3.5 apps on one class path, a fresh process per scenario, `"
                + String.join(" ", ServerProcess.JVM_FLAGS) + "`, on " + java17 + " (" + versionOf(java17)
                + "); blocking-virtual on " + javaVirtual + " (" + versionOf(javaVirtual) + ").\n"
                + "- Containers: Tomcat and Jetty with Spring Boot's defaults (200 threads), max-connections 30,000; "
                + "WebFlux on Reactor Netty. Every server sends a heartbeat comment every 5 s on an idle stream.\n"
                + "- Re-run: `bench/run` (everything) or `bench/run --servers=a,b --scenarios=x,y`.\n";
    }
}
