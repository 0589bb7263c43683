package dev.handoff.core.support;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Jetty;
import org.eclipse.jetty.util.ssl.SslContextFactory;
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
        HttpConfiguration http = new HttpConfiguration();
        ServerConnector connector;
        if (app.tls() != null) {
            connector = new ServerConnector(server, 1, 1, tlsFactories(app.tls(), http));
        } else if (app.http2Enabled()) {
            connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http), h2c(http));
        } else {
            connector = new ServerConnector(server, 1, 1);
        }
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

    /** TLS, then h2 or HTTP/1.1 as ALPN agrees with the client. */
    private static ConnectionFactory[] tlsFactories(TestCertificate certificate, HttpConfiguration http) {
        http.addCustomizer(new SecureRequestCustomizer(false));
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(certificate.keyStore().toString());
        ssl.setKeyStorePassword(TestCertificate.PASSWORD);
        ssl.setKeyStoreType("PKCS12");
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(http);
        h2.setMaxConcurrentStreams(TestServer.MAX_HTTP2_STREAMS);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2", "http/1.1");
        alpn.setDefaultProtocol("http/1.1");
        return new ConnectionFactory[] {new SslConnectionFactory(ssl, alpn.getProtocol()), alpn, h2,
            new HttpConnectionFactory(http)};
    }

    /** Cleartext HTTP/2 beside HTTP/1.1, with room for the streams the tests open on one connection. */
    private static HTTP2CServerConnectionFactory h2c(HttpConfiguration http) {
        HTTP2CServerConnectionFactory h2c = new HTTP2CServerConnectionFactory(http);
        h2c.setMaxConcurrentStreams(TestServer.MAX_HTTP2_STREAMS);
        return h2c;
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
