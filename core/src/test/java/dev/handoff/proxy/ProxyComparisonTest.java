package dev.handoff.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.JettyTestServer;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.junit.jupiter.api.Test;

/**
 * One large download, in one run: straight from a fast backend, through Handoff's proxy on each of its HTTP
 * clients, and through Jetty's {@code AsyncProxyServlet} on the same server. Prints the rates; asserts only
 * that every byte arrived. Runs on Jetty only (Jetty's proxy servlet needs Jetty's client); not a benchmark, a yardstick.
 */
class ProxyComparisonTest {

    private static final long SIZE = 1L << 30;

    @Test
    void aGigabyteDirectThroughHandoffAndThroughJettysAsyncProxyServlet() throws Exception {
        byte[] block = new byte[256 * 1024];
        TestApp backendApp = new TestApp().route("/bytes", (req, resp) -> {
            resp.setContentType("application/octet-stream");
            resp.setContentLengthLong(SIZE);
            OutputStream out = resp.getOutputStream();
            for (long left = SIZE; left > 0; left -= block.length) {
                out.write(block, 0, (int) Math.min(left, block.length));
            }
        });
        try (TestServer backend = JettyTestServer.start(backendApp, 0);
                StreamingProxy proxy = StreamingProxy.builder().build();
                StreamingProxy onJetty = StreamingProxy.builder().jettyClient().build()) {
            URI target = URI.create("http://127.0.0.1:" + backend.port() + "/bytes");
            TestApp proxyApp = new TestApp()
                    .route("/handoff/*", (req, resp) -> proxy.forward(req, target))
                    .route("/handoff-jetty/*", (req, resp) -> onJetty.forward(req, target))
                    .servlet("/jetty/*", new AsyncProxyServlet.Transparent(),
                            Map.of("proxyTo", "http://127.0.0.1:" + backend.port(), "prefix", "/jetty"));
            try (TestServer server = JettyTestServer.start(proxyApp, 0)) {
                // Two rounds, each path once per round; the better round counts, so that no path gains from
                // running after the others warmed the JIT.
                double direct = 0;
                double jdkClient = 0;
                double handoff = 0;
                double handoffJetty = 0;
                double jetty = 0;
                for (int round = 0; round < 2; round++) {
                    direct = Math.max(direct, download(backend.port(), "/bytes"));
                    jdkClient = Math.max(jdkClient, jdkClientDownload(target));
                    handoff = Math.max(handoff, download(server.port(), "/handoff/bytes"));
                    handoffJetty = Math.max(handoffJetty, download(server.port(), "/handoff-jetty/bytes"));
                    jetty = Math.max(jetty, download(server.port(), "/jetty/bytes"));
                }
                System.out.printf("[figures] %s: 1 GiB download, MB/s (best of 2): direct %.0f, the JDK HttpClient "
                        + "alone (discarding) %.0f, Handoff proxy on the JDK client %.0f, on Jetty's client %.0f, "
                        + "Jetty AsyncProxyServlet %.0f (Handoff/Jetty: JDK client %.2f, Jetty client %.2f)%n",
                        server.name(), direct, jdkClient, handoff, handoffJetty, jetty, handoff / jetty,
                        handoffJetty / jetty);
                assertThat(proxy.stats().bytesToClient()).isEqualTo(2 * SIZE);
                assertThat(onJetty.stats().bytesToClient()).isEqualTo(2 * SIZE);
            }
        }
    }

    /** The JDK client reading from the backend and dropping the bytes: the ceiling for a proxy built on it. */
    private static double jdkClientDownload(URI target) throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        long start = System.nanoTime();
        java.net.http.HttpResponse<Void> response = client.send(java.net.http.HttpRequest.newBuilder(target).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        assertThat(response.statusCode()).isEqualTo(200);
        return SIZE / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    /** Downloads with a raw socket that discards the bytes; returns MB/s. */
    private static double download(int port, String path) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[256 * 1024];
            long start = System.nanoTime();
            long total = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // Head and, for chunked responses, the chunk framing come on top of the body.
            assertThat(total).as("bytes from " + path).isGreaterThanOrEqualTo(SIZE);
            return SIZE / seconds / 1e6;
        }
    }
}
