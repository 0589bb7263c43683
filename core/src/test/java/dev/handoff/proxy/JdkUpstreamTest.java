package dev.handoff.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the relay's demand reaches the JDK client: from the proxy's own demand threads, never from the thread that
 * asks (there the JDK's HTTP/1.1 receiver would run its delivery loop and ask its socket for reads it already
 * asked for), and not at all once the proxy is closed.
 */
class JdkUpstreamTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private final JdkUpstream upstream = new JdkUpstream(client, Duration.ofSeconds(5));
    /** What reached the JDK's subscription: "request n on thread" or "cancel". */
    private final BlockingQueue<String> calls = new LinkedBlockingQueue<>();
    private final Flow.Subscription jdk = new Flow.Subscription() {
        @Override
        public void request(long n) {
            calls.add("request " + n + " on " + Thread.currentThread().getName());
        }

        @Override
        public void cancel() {
            calls.add("cancel");
        }
    };

    @AfterEach
    void close() {
        upstream.close();
        assertThat(calls).as("nothing more reached the JDK").isEmpty();
    }

    private String nextCall() throws InterruptedException {
        String call = calls.poll(5, TimeUnit.SECONDS);
        assertThat(call).as("a call reached the JDK within 5 s").isNotNull();
        return call;
    }

    private static List<String> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.startsWith(prefix)).toList();
    }

    @Test
    void demandReachesTheJdkFromTheProxysThreadsNotTheCallers() throws Exception {
        Flow.Subscription demand = new JdkUpstream.Demand(jdk, upstream.demandThreads());
        demand.request(1);
        assertThat(nextCall()).startsWith("request 1 on handoff-proxy-demand-");
        demand.request(1);
        assertThat(nextCall()).startsWith("request 1 on handoff-proxy-demand-");
    }

    @Test
    void cancelGoesStraightThrough() {
        new JdkUpstream.Demand(jdk, upstream.demandThreads()).cancel();
        assertThat(calls.poll()).isEqualTo("cancel");
    }

    @Test
    void demandAfterTheProxyClosedCancelsTheExchange() throws Exception {
        Executor threads = upstream.demandThreads();
        Flow.Subscription demand = new JdkUpstream.Demand(jdk, threads);
        demand.request(1);
        assertThat(nextCall()).startsWith("request 1 on");
        upstream.close();
        demand.request(1);
        assertThat(calls.poll()).isEqualTo("cancel");
    }

    @Test
    void theDemandThreadsEndWithTheProxy() throws Exception {
        new JdkUpstream.Demand(jdk, upstream.demandThreads()).request(1);
        String thread = nextCall().substring("request 1 on ".length());
        String pool = thread.substring(0, thread.lastIndexOf('-') + 1);
        assertThat(threadsNamed(pool)).contains(thread);
        upstream.close();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(threadsNamed(pool)).isEmpty());
    }
}
