package dev.handoff.core.support;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;
import org.apache.coyote.http2.Http2Protocol;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;

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
        if (app.tls() != null) {
            connector.setSecure(true);
            connector.setScheme("https");
            connector.setProperty("SSLEnabled", "true");
            SSLHostConfig host = new SSLHostConfig();
            SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
            certificate.setCertificateKeystoreFile(app.tls().keyStore().toString());
            certificate.setCertificateKeystorePassword(TestCertificate.PASSWORD);
            certificate.setCertificateKeystoreType("PKCS12");
            host.addCertificate(certificate);
            connector.addSslHostConfig(host);
        }
        if (app.http2Enabled() || app.tls() != null) {
            // h2 by ALPN over TLS; h2c by upgrade or prior knowledge (Tomcat takes the HTTP/2 preface on HTTP/1.1).
            Http2Protocol h2 = new Http2Protocol();
            h2.setMaxConcurrentStreams(TestServer.MAX_HTTP2_STREAMS);
            app.tomcatHttp2().forEach((name, value) -> {
                if (!IntrospectionUtils.setProperty(h2, name, value)) {
                    throw new IllegalArgumentException("Tomcat's Http2Protocol has no property " + name);
                }
            });
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
