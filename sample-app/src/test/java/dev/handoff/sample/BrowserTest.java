package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.CloseReason;
import dev.handoff.registry.StreamRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;

/**
 * The sample page in a real browser (headless Chromium): the progress bars reach 100% through the
 * browser's own {@code EventSource}, a chat message sent from a second tab shows in the first, and after a
 * dropped connection the tab reconnects, catches up on what it missed, and says so.
 * Saves a screenshot to {@code target/screenshots/}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "sample.task.step=100ms",
            "sample.chat.history=target/chat-history-browser.log"})
class BrowserTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static ChromeDriver browser;

    @Autowired
    Environment environment;
    @Autowired
    StreamRegistry registry;

    @BeforeAll
    static void openBrowser() {
        browser = Chromium.open();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private String page() {
        return "http://127.0.0.1:" + environment.getProperty("local.server.port") + "/";
    }

    @Test
    void progressBarsReach100AndAChatMessageFromAnotherTabArrives() throws Exception {
        browser.get(page());
        String firstTab = browser.getWindowHandle();
        browser.findElement(By.id("start")).click();
        browser.findElement(By.id("start")).click();
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(b -> b.findElements(By.cssSelector("#tasks progress")).size() == 2);
        wait.until(b -> b.findElements(By.cssSelector("#tasks progress")).stream()
                .allMatch(bar -> "100".equals(bar.getDomProperty("value"))));
        List<WebElement> labels = browser.findElements(By.cssSelector("#tasks .pct"));
        wait.until(b -> labels.stream().allMatch(l -> l.getText().equals("done")));

        browser.switchTo().newWindow(WindowType.TAB);
        browser.get(page());
        browser.findElement(By.name("name")).sendKeys("ada");
        browser.findElement(By.name("text")).sendKeys("hello from the second tab");
        browser.findElement(By.cssSelector("#chat button")).click();
        wait.until(b -> Chromium.chat(b).contains("hello from the second tab"));
        browser.switchTo().window(firstTab);
        wait.until(b -> Chromium.chat(b).contains("ada: hello from the second tab"));
        wait.until(b -> b.findElement(By.id("status")).getText().startsWith("open streams"));

        // A network drop: the server ends the chat streams; messages are posted while the tabs are away, more
        // than a stream's queue holds (150 of ~500 bytes against 64 KiB), so the browser's own reconnect must be
        // caught up by demand: every message, in order, none twice.
        registry.closeTopic("chat", CloseReason.SHUTDOWN, "simulated drop");
        HttpClient http = HttpClient.newHttpClient();
        int backlog = 150;
        for (int i = 0; i < backlog; i++) {
            String text = "backlog " + i + " " + "x".repeat(470);
            http.send(HttpRequest.newBuilder(URI.create(page() + "api/chat")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bob\",\"text\":\"" + text + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }
        http.send(HttpRequest.newBuilder(URI.create(page() + "api/chat")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bob\",\"text\":\"sent while you were away\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        wait.until(b -> Chromium.chat(b).contains("Reconnected, caught up."));
        wait.until(b -> Chromium.chat(b).contains("bob: sent while you were away"));
        List<String> caughtUp = Chromium.chat(browser).lines().filter(t -> t.startsWith("bob: backlog "))
                .map(t -> t.split(" ")[2]).toList();
        List<String> expected = java.util.stream.IntStream.range(0, backlog).mapToObj(Integer::toString).toList();
        assertThat(caughtUp).as("the messages posted while away, as the tab shows them").isEqualTo(expected);

        Path shots = Path.of("target", "screenshots");
        Files.createDirectories(shots);
        Path shot = shots.resolve("sample-page.png");
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
        assertThat(Files.size(shot)).isPositive();
        assertThat(Chromium.chat(browser)).contains("ada: hello from the second tab");
    }

    /**
     * The stress card: the server opens 300 streams to itself; the figures show them open while the request
     * threads inside the application stay a handful. The proxy card's ten ticks arrive one by one, the "the code"
     * links serve the sample's source, and nothing the page loads answers 404. Saves the page with its chart.
     */
    @Test
    void theStressButtonOpensHundredsOfStreamsWhileTheRequestThreadsStayFlat() throws Exception {
        browser.get(page());
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(b -> b.findElement(By.id("connection")).getText().equals("live"));
        browser.findElement(By.id("proxy")).click();
        wait.until(b -> b.findElements(By.cssSelector("#ticks span.on")).size() == 10);

        browser.findElement(By.id("stress")).click();
        wait.until(b -> b.findElement(By.id("stressnote")).getText().startsWith("300 streams opened"));
        wait.until(b -> number(b.findElement(By.id("fig-streams")).getText()) >= 300);
        // Opening them took every request thread for a moment; holding and ticking them takes none. A second in
        // which ticks reached the streams (so they were all open), then the next one, all of it after the opening:
        wait.until(b -> number(b.findElement(By.id("fig-rate")).getText()) >= 300);
        int second = number(browser.findElement(By.id("status")).getDomAttribute("data-updates"));
        wait.until(b -> number(b.findElement(By.id("status")).getDomAttribute("data-updates")) > second);
        assertThat(number(browser.findElement(By.id("fig-streams")).getText())).isGreaterThanOrEqualTo(300);
        String threads = browser.findElement(By.id("fig-threads")).getText(); // "now (peak / pool)"
        int peak = Integer.parseInt(threads.replaceAll(".*\\((\\d+) / .*", "$1"));
        int pool = Integer.parseInt(threads.replaceAll(".* / (\\d+)\\).*", "$1"));
        assertThat(peak).as("request threads in the app at the peak of a second with 300 streams held and ticked, "
                + "of a pool of %d", pool).isLessThanOrEqualTo(3);
        Path shots = Path.of("target", "screenshots");
        Files.createDirectories(shots);
        Files.write(shots.resolve("sample-stress.png"), browser.getScreenshotAs(OutputType.BYTES));
        browser.findElement(By.id("unstress")).click();
        wait.until(b -> b.findElement(By.id("stressnote")).getText().startsWith("Stopped: 300 streams closed"));
        wait.until(b -> number(b.findElement(By.id("fig-streams")).getText()) < 300);

        assertThat(Chromium.failedLoads(browser)).as("what the page loaded that did not answer 2xx").isEmpty();
        HttpResponse<String> source = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(page() + "source/TaskController.java")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(source.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(source.body()).contains("class TaskController");
    }

    private static int number(String figure) {
        if (figure == null) {
            return -1;
        }
        String digits = figure.replaceAll("[^0-9]", "");
        return digits.isEmpty() ? -1 : Integer.parseInt(digits);
    }
}
