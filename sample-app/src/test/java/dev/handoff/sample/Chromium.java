package dev.handoff.sample;

import java.nio.file.Files;
import java.nio.file.Path;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/** Debian's Chromium, headless, through its ChromeDriver: the browser of the sample's browser tests. */
final class Chromium {

    private static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private Chromium() {
    }

    /** A new headless browser; fails, with how to install it, where Chromium or its driver is missing. */
    static ChromeDriver open() {
        return open(new String[0]);
    }

    /** A new headless browser with these command-line switches too. */
    static ChromeDriver open(String... switches) {
        if (!Files.isExecutable(BINARY) || !Files.isExecutable(DRIVER)) {
            throw new IllegalStateException("the browser tests need Debian's Chromium and its driver at " + BINARY
                    + " and " + DRIVER + ": install them with `sudo apt-get install -y chromium chromium-driver`"
                    + " (.ci/run does this in CI)");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1300");
        options.addArguments(switches);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** The sample page's chat, a line each: {@code name: text} for a message, the text of a notice for a notice. */
    static String chat(WebDriver browser) {
        return (String) ((JavascriptExecutor) browser).executeScript("return [...document.querySelectorAll("
                + "'#log .msg, #log .marker')].map(d => d.classList.contains('msg') ? d.querySelector('.name')"
                + ".textContent + ': ' + d.querySelector('.text').textContent : d.textContent).join('\\n');");
    }

    /**
     * What the page loaded (the document, its scripts and styles, its fetches) that answered other than 2xx, as
     * "status url"; streams still open are not listed yet (the browser reports an entry when it ends).
     */
    @SuppressWarnings("unchecked")
    static java.util.List<String> failedLoads(WebDriver browser) {
        return (java.util.List<String>) ((JavascriptExecutor) browser).executeScript("return performance"
                + ".getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                + ".filter(e => e.responseStatus && (e.responseStatus < 200 || e.responseStatus > 299))"
                + ".map(e => e.responseStatus + ' ' + e.name);");
    }
}
