package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.redis.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The sample as two instances of one application on a real Redis (as {@code sample-app/run-two-instances} runs
 * it), in a real browser: a chat message posted in a tab on one instance shows in a tab on the other, and a tab
 * whose connection a load balancer moves from one instance to the other reconnects by itself, with
 * {@code Last-Event-ID}, and catches up on what was posted meanwhile.
 */
class ClusterBrowserTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<ConfigurableApplicationContext> instances = new ArrayList<>();
    private static ChromeDriver browser;

    @BeforeAll
    static void start() {
        for (String name : List.of("a", "b")) {
            // As arguments, as run-two-instances passes them: they override the sample's application.properties.
            instances.add(new SpringApplicationBuilder(SampleApplication.class).run("--server.port=0",
                    "--server.address=127.0.0.1", "--handoff.cluster.enabled=true", "--handoff.cluster.redis-url="
                            + redis.uri(), "--handoff.cluster.key-prefix=sample:", "--sample.task.step=100ms",
                    "--sample.chat.history=target/chat-history-cluster-" + name + ".log"));
        }
        browser = Chromium.open();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        for (ConfigurableApplicationContext c : instances) {
            c.close();
        }
    }

    private static int port(int instance) {
        return Integer.parseInt(instances.get(instance).getEnvironment().getRequiredProperty("local.server.port"));
    }

    private static String page(int port) {
        return "http://127.0.0.1:" + port + "/";
    }

    @Test
    void aMessagePostedOnOneInstanceReachesATabOnTheOtherAndAMovedTabCatchesUp() throws Exception {
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        try (Balancer balancer = new Balancer(port(0))) {
            // Tab 1 on instance A directly; tab 2 on instance B directly; tab 3 through the balancer, on A for now.
            browser.get(page(port(0)));
            String onA = browser.getWindowHandle();
            wait.until(b -> b.findElement(By.id("status")).getText().contains("instance :" + port(0)));
            browser.switchTo().newWindow(WindowType.TAB);
            browser.get(page(balancer.port()));
            String moved = browser.getWindowHandle();
            browser.switchTo().newWindow(WindowType.TAB);
            browser.get(page(port(1)));
            wait.until(b -> b.findElement(By.id("status")).getText().contains("cluster connected"));
            browser.findElement(By.name("name")).sendKeys("bea");
            browser.findElement(By.name("text")).sendKeys("hello from instance B");
            browser.findElement(By.cssSelector("#chat button")).click();

            for (String tab : List.of(onA, moved)) {
                browser.switchTo().window(tab);
                wait.until(b -> Chromium.chat(b).contains("bea: hello from instance B"));
            }

            // Instance A "goes away" for the tab behind the balancer: its EventSource reconnects to B, with the
            // id of the last message it got, while a message is posted on A.
            balancer.moveTo(port(1));
            post(port(0), "al", "posted on A while the tab moved");
            browser.switchTo().window(moved);
            wait.until(b -> Chromium.chat(b).contains("al: posted on A while the tab moved"));
            wait.until(b -> Chromium.chat(b).contains("Reconnected, caught up."));
            wait.until(b -> b.findElement(By.id("status")).getText().contains("instance :" + port(1)));
            String log = Chromium.chat(browser);
            assertThat(log.indexOf("bea: hello from instance B")).as("each message once, in order")
                    .isEqualTo(log.lastIndexOf("bea: hello from instance B")).isLessThan(log.indexOf("al: posted on A"));
            assertThat(log).doesNotContain("History was lost");

            Path shots = Path.of("target", "screenshots");
            Files.createDirectories(shots);
            Files.write(shots.resolve("sample-two-instances.png"), browser.getScreenshotAs(OutputType.BYTES));
        }
    }

    private static void post(int port, String name, String text) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(page(port) + "api/chat"))
                .header("Content-Type", "application/json").timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"text\":\"" + text + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
