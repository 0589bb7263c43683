package dev.handoff.core.support;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, made at test time with the JDK's own
 * {@code keytool} in a temporary PKCS12 key store: for TLS (and HTTP/2 over TLS) in the tests, with nothing
 * checked in. {@link #sslContext()} trusts it, and nothing else.
 */
public final class TestCertificate {

    public static final String PASSWORD = "handoff-test";
    public static final String ALIAS = "handoff";

    private final Path keyStore;

    private TestCertificate(Path keyStore) {
        this.keyStore = keyStore;
    }

    /** Makes a new key pair and certificate (valid two days). */
    public static TestCertificate create() throws Exception {
        Path dir = Files.createTempDirectory("handoff-tls");
        Path store = dir.resolve("test.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", ALIAS, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD,
                "-keypass", PASSWORD)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        store.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return new TestCertificate(store);
    }

    /** The PKCS12 key store holding the key and certificate (password {@link #PASSWORD}, alias {@link #ALIAS}). */
    public Path keyStore() {
        return keyStore;
    }

    /** A client TLS context that trusts this certificate only. */
    public SSLContext sslContext() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
