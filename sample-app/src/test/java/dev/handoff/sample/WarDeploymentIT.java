package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The sample's WAR, unchanged, deployed to real standalone containers from Maven Central (Tomcat 10.1 and
 * Jetty 12 ee10, unpacked by the build) under the context path {@code /handoff}: each streams a task's progress to
 * 100%, and the page itself works there in a browser (headless Chromium): its figures go live, a task's bar
 * reaches done, the proxy's ten ticks arrive, a chat message comes back, and nothing it loads answers 404.
 */
class WarDeploymentIT {

    private static final Duration START = Duration.ofSeconds(120);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    private static Path property(String name) {
        String value = System.getProperty(name);
        assertThat(value).as("system property %s (set by the Maven build)", name).isNotNull();
        return Path.of(value);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void theWarRunsOnStandaloneTomcat() throws Exception {
        Path home = property("handoff.tomcat");
        int port = freePort();
        // A fresh CATALINA_BASE per run; the unpacked distribution stays untouched.
        Path base = Files.createTempDirectory(home.getParent(), "tomcat-base-");
        for (String dir : List.of("conf", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(dir));
        }
        try (var files = Files.list(home.resolve("conf"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, base.resolve("conf").resolve(f.getFileName()));
            }
        }
        Path serverXml = base.resolve("conf/server.xml");
        String xml = Files.readString(serverXml)
                .replace("port=\"8080\"", "port=\"" + port + "\" address=\"127.0.0.1\"")
                .replace("port=\"8005\"", "port=\"-1\"");
        Files.writeString(serverXml, xml);
        Files.copy(property("handoff.war"), base.resolve("webapps/handoff.war"), StandardCopyOption.REPLACE_EXISTING);
        ProcessBuilder tomcat = new ProcessBuilder("sh", home.resolve("bin/catalina.sh").toString(), "run")
                .directory(base.toFile()).redirectErrorStream(true).redirectOutput(base.resolve("logs/run.log").toFile());
        tomcat.environment().put("JAVA_HOME", System.getProperty("java.home"));
        tomcat.environment().put("CATALINA_HOME", home.toString());
        tomcat.environment().put("CATALINA_BASE", base.toString());
        tomcat.environment().put("CATALINA_OPTS", "-Xmx256m -Dsample.task.step=100ms");
        runAndCheck(tomcat, port, base.resolve("logs/run.log"), "Tomcat " + home.getFileName());
    }

    @Test
    void theWarRunsOnStandaloneJetty() throws Exception {
        Path home = property("handoff.jetty");
        Path base = Files.createTempDirectory(home.getParent(), "jetty-base-");
        Files.createDirectories(base.resolve("webapps"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process setup = new ProcessBuilder(java, "-jar", home.resolve("start.jar").toString(),
                "--add-modules=server,http,ee10-deploy,ee10-annotations").directory(base.toFile())
                .redirectErrorStream(true).redirectOutput(base.resolve("setup.log").toFile()).start();
        assertThat(setup.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(setup.exitValue()).as(Files.readString(base.resolve("setup.log"))).isZero();
        Files.copy(property("handoff.war"), base.resolve("webapps/handoff.war"), StandardCopyOption.REPLACE_EXISTING);
        int port = freePort();
        ProcessBuilder jetty = new ProcessBuilder(java, "-Xmx256m", "-Dsample.task.step=100ms", "-jar",
                home.resolve("start.jar").toString(), "jetty.http.host=127.0.0.1", "jetty.http.port=" + port)
                .directory(base.toFile()).redirectErrorStream(true).redirectOutput(base.resolve("run.log").toFile());
        runAndCheck(jetty, port, base.resolve("run.log"), "Jetty " + home.getFileName());
    }

    private void runAndCheck(ProcessBuilder container, int port, Path log, String name) throws Exception {
        Process process = container.start();
        try {
            String base = "http://127.0.0.1:" + port + "/handoff";
            Awaitility.await("the WAR deployed on " + name).atMost(START).pollInterval(Duration.ofMillis(250))
                    .ignoreExceptions().until(() -> {
                        assertThat(process.isAlive()).as("%s is running; its log:%n%s", name, tail(log)).isTrue();
                        return get(base + "/api/status").statusCode() == 200;
                    });
            assertThat(get(base + "/").body()).contains("<h1>Handoff <span>sample</span></h1>");
            thePageWorksInABrowser(base + "/", name);
            // Deployed and used without a warning (what the container logs when the WAR is undeployed is not checked:
            // on Java 17 the JDK's HttpClient has no shutdown, and Tomcat reports its threads then).
            assertThat(Files.readString(log, StandardCharsets.UTF_8).lines()
                    .filter(l -> l.contains(" WARN") || l.contains("SEVERE") || l.contains(" ERROR")))
                    .as("warnings in the log of %s", name).isEmpty();
            String id = http.send(HttpRequest.newBuilder(URI.create(base + "/api/tasks"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).body()
                    .replaceAll("\\D", "");
            try (StreamClient client = new StreamClient(port)) {
                Conn progress = client.get("/handoff/api/tasks/" + id + "/progress");
                assertThat(progress.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).header("Content-Type"))
                        .startsWith("text/event-stream");
                assertThat(progress.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
                List<Event> events = progress.events();
                assertThat(events.get(events.size() - 1).data()).isEqualTo("{\"task\":" + id + ",\"percent\":100}");
                System.out.printf("[figures] sample WAR on standalone %s: %d task events over SSE%n", name,
                        events.size());
            }
        } finally {
            process.destroy();
            if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** The page under the WAR's context path, in headless Chromium: every URL it uses is relative to it. */
    private static void thePageWorksInABrowser(String page, String name) throws Exception {
        ChromeDriver browser = Chromium.open();
        try {
            WebDriverWait wait = new WebDriverWait(browser, WAIT);
            browser.get(page);
            wait.until(b -> b.findElement(By.id("connection")).getText().equals("live"));
            wait.until(b -> b.findElement(By.id("status")).getText().startsWith("open streams"));
            browser.findElement(By.id("start")).click();
            wait.until(b -> b.findElements(By.cssSelector("#tasks .pct")).stream().anyMatch(p -> p.getText().equals("done")));
            browser.findElement(By.id("proxy")).click();
            wait.until(b -> b.findElements(By.cssSelector("#ticks span.on")).size() == 10);
            browser.findElement(By.name("name")).sendKeys("war");
            browser.findElement(By.name("text")).sendKeys("under a context path");
            browser.findElement(By.cssSelector("#chat button")).click();
            wait.until(b -> Chromium.chat(b).contains("war: under a context path"));
            assertThat(Chromium.failedLoads(browser)).as("what the page loaded that did not answer 2xx").isEmpty();
            Path shots = Path.of("target", "screenshots");
            Files.createDirectories(shots);
            Files.write(shots.resolve("war-" + name.replaceAll("\\W+", "-").toLowerCase() + ".png"),
                    browser.getScreenshotAs(OutputType.BYTES));
        } finally {
            browser.quit();
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String tail(Path log) {
        try {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            return text.substring(Math.max(0, text.length() - 3000));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
