package dev.handoff.core.support;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;
import org.apache.coyote.http2.Http2Protocol;

public final class TomcatTestServer implements TestServer {

    private final Tomcat tomcat;
    private final Connector connector;

    private TomcatTestServer(Tomcat tomcat, Connector connector) {
        this.tomcat = tomcat;
        this.connector = connector;
    }

    public static TestServer start(TestApp app) throws Exception {
        Tomcat tomcat = new Tomcat();
        Path base = Files.createTempDirectory("tomcat");
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setProperty("maxThreads", Integer.toString(THREADS));
        connector.setProperty("minSpareThreads", Integer.toString(THREADS));
        connector.setProperty("acceptCount", "4096");
        connector.setProperty("maxConnections", "20000");
        if (app.containerIdleTimeout() != null) {
            connector.setProperty("connectionTimeout", Long.toString(app.containerIdleTimeout().toMillis()));
        }
        if (app.http2Enabled()) {
            // h2c: by upgrade, and with prior knowledge (Tomcat takes the HTTP/2 preface on an HTTP/1.1 connector).
            Http2Protocol h2 = new Http2Protocol();
            h2.setMaxConcurrentStreams(TestServer.MAX_HTTP2_STREAMS);
            connector.addUpgradeProtocol(h2);
        }
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", base.toString());
        context.addServletContainerInitializer((classes, servletContext) -> app.install(servletContext), null);
        tomcat.start();
        return new TomcatTestServer(tomcat, connector);
    }

    @Override
    public String name() {
        return ServerInfo.getServerInfo();
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }
}
