package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.TestCertificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The sample over HTTP/2 with TLS ({@code server.http2.enabled=true}, a certificate made at test time), in a real
 * browser: one page opens ten {@code EventSource}s, more than the six HTTP/1.1 connections a browser allows per
 * origin, and every one of them receives the chat message posted after they opened.
 */
class Http2BrowserTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static ConfigurableApplicationContext app;
    private static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        TestCertificate certificate = TestCertificate.create();
        app = SpringApplication.run(SampleApplication.class, "--server.port=0", "--server.address=127.0.0.1",
                "--server.http2.enabled=true", "--server.ssl.key-store=" + certificate.keyStore(),
                "--server.ssl.key-store-type=PKCS12", "--server.ssl.key-store-password=" + TestCertificate.PASSWORD,
                "--server.ssl.key-alias=" + TestCertificate.ALIAS, "--sample.chat.history=target/chat-history-h2.log");
        // The certificate is the test's own: the browser is told to take it.
        browser = Chromium.open("--ignore-certificate-errors");
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (app != null) {
            app.close();
        }
    }

    @Test
    void tenEventSourcesOnOnePageAllReceiveOverOneHttp2Connection() {
        browser.get("https://localhost:" + app.getEnvironment().getProperty("local.server.port") + "/");
        JavascriptExecutor js = browser;
        assertThat(js.executeScript("return performance.getEntriesByType('navigation')[0].nextHopProtocol"))
                .isEqualTo("h2");
        js.executeScript("""
                window.h2 = { open: 0, got: [] };
                for (let i = 0; i < 10; i++) {
                  window.h2.got.push(0);
                  const s = new EventSource('api/chat/events');
                  s.onopen = () => window.h2.open++;
                  s.addEventListener('message', () => window.h2.got[i]++);
                }""");
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(b -> ((Number) js.executeScript("return window.h2.open")).intValue() == 10);
        js.executeScript("""
                fetch('api/chat', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ name: 'h2', text: 'to every stream' }) });""");
        wait.until(b -> ((List<?>) js.executeScript("return window.h2.got")).stream()
                .allMatch(n -> ((Number) n).intValue() >= 1));
        assertThat(js.executeScript("return window.h2.got.length")).isEqualTo(10L);
    }
}
