package dev.handoff.core.support;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Jetty;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

public final class JettyTestServer implements TestServer {

    private final Server server;
    private final ServerConnector connector;

    private JettyTestServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    public static TestServer start(TestApp app) throws Exception {
        return start(app, 0);
    }

    /** Jetty on a fixed loopback port (0 for any free one). */
    public static TestServer start(TestApp app, int port) throws Exception {
        QueuedThreadPool pool = new QueuedThreadPool(THREADS, THREADS);
        pool.setName("jetty");
        Server server = new Server(pool);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(4096);
        if (app.containerIdleTimeout() != null) {
            connector.setIdleTimeout(app.containerIdleTimeout().toMillis());
        }
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServletContainerInitializer((classes, servletContext) -> app.install(servletContext));
        server.setHandler(context);
        server.start();
        return new JettyTestServer(server, connector);
    }

    @Override
    public String name() {
        return "Jetty " + Jetty.VERSION;
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
