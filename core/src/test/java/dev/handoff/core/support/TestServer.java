package dev.handoff.core.support;

import java.net.URI;

/**
 * A real container on a loopback port with a pool of {@link #THREADS} request threads, chosen by the
 * system property {@code handoff.test.container} ({@code jetty} or {@code tomcat}); each Maven test
 * execution sets it, with the matching container on the class path.
 */
public interface TestServer extends AutoCloseable {

    /** The size of the container's request thread pool in every container test. */
    int THREADS = 8;

    /** Most concurrent streams on one HTTP/2 connection (both containers default to about 100: Tomcat 100, Jetty 128). */
    int MAX_HTTP2_STREAMS = 256;

    static TestServer start(TestApp app) throws Exception {
        String container = System.getProperty("handoff.test.container", "jetty");
        return switch (container) {
            case "jetty" -> JettyTestServer.start(app);
            case "tomcat" -> TomcatTestServer.start(app);
            default -> throw new IllegalArgumentException("unknown handoff.test.container: " + container);
        };
    }

    /** For example "Jetty 12.1.14" or "Apache Tomcat/11.0.27". */
    String name();

    int port();

    default URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    @Override
    void close() throws Exception;
}
