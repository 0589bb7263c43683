package dev.handoff.readme.servlet;

import dev.handoff.test.SseRecorder;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletRegistration;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

/** The README's plain-servlet quick start, as it is, on an embedded Tomcat: the listener's filter and the servlet. */
class PlainServletQuickStartTest {

    @Test
    void theServletStreamsProgressTo100AndEnds() throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("quick-start-tomcat").toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", null);
        // What the container does for @WebListener and @WebServlet in a deployed application.
        context.addServletContainerInitializer((classes, servletContext) -> {
            new HandoffSetup().contextInitialized(new ServletContextEvent(servletContext));
            ServletRegistration.Dynamic servlet = servletContext.addServlet("progress", new ProgressServlet());
            servlet.setAsyncSupported(true);
            servlet.addMapping("/events/progress");
        }, null);
        tomcat.start();
        try (SseRecorder progress = SseRecorder.open(URI.create("http://127.0.0.1:" + connector.getLocalPort()
                + "/events/progress")).assertStatus(200)) {
            for (int p = 10; p <= 100; p += 10) {
                progress.assertEvent("progress", "{\"percent\":" + p + "}");
            }
            progress.assertEnded(Duration.ofSeconds(10));
        } finally {
            tomcat.stop();
            tomcat.destroy();
        }
    }
}
