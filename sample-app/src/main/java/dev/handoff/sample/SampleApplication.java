package dev.handoff.sample;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.boot.web.servlet.support.SpringBootServletInitializer;
import org.springframework.context.event.EventListener;

/** Handoff's sample: task progress bars, a chat and a live status line, each fed by SSE. */
@SpringBootApplication
public class SampleApplication extends SpringBootServletInitializer {

    private static final Logger log = LoggerFactory.getLogger(SampleApplication.class);

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }

    /** Deployed as a WAR into a standalone Tomcat or Jetty. */
    @Override
    protected SpringApplicationBuilder configure(SpringApplicationBuilder builder) {
        return builder.sources(SampleApplication.class);
    }

    @EventListener
    void announce(WebServerInitializedEvent event) {
        log.info("Handoff sample is up: open http://localhost:{}/", event.getWebServer().getPort());
    }
}
