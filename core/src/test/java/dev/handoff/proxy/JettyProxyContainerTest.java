package dev.handoff.proxy;

/** The proxy on Jetty's {@code HttpClient} ({@code jettyClient()}). */
class JettyProxyContainerTest extends ProxyContainerTest {

    @Override
    StreamingProxy.Builder builder() {
        return StreamingProxy.builder().jettyClient();
    }

    @Override
    String clientName() {
        return "Jetty HttpClient";
    }
}
