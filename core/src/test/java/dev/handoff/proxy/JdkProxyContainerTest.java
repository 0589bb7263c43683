package dev.handoff.proxy;

/** The proxy on the JDK's {@code HttpClient}, its default. */
class JdkProxyContainerTest extends ProxyContainerTest {

    @Override
    StreamingProxy.Builder builder() {
        return StreamingProxy.builder();
    }

    @Override
    String clientName() {
        return "the JDK HttpClient";
    }
}
