package dev.handoff.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a proxy costs before it is used: an application that never proxies must not pay for a client. */
class StreamingProxyTest {

    private static List<String> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.startsWith(prefix)).toList();
    }

    @Test
    void aProxyOnJettysClientThatIsNeverUsedStartsNoThreads() {
        List<String> before = threadsNamed("handoff-proxy");
        StreamingProxy proxy = StreamingProxy.builder().jettyClient().build();
        // No new thread (an earlier test's may end meanwhile, so "the same or fewer").
        assertThat(threadsNamed("handoff-proxy")).allMatch(before::contains);
        proxy.close();
        assertThat(threadsNamed("handoff-proxy")).allMatch(before::contains);
    }

    @Test
    void aProxyOnTheJdkClientThatIsNeverUsedBuildsNoClient() {
        List<String> before = threadsNamed("HttpClient-");
        StreamingProxy proxy = StreamingProxy.builder().build();
        assertThat(threadsNamed("HttpClient-")).allMatch(before::contains);
        proxy.close();
    }
}
