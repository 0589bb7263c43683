package dev.handoff.registry;

import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.DefaultSseStream;
import jakarta.servlet.http.HttpServletRequest;
import java.util.function.LongSupplier;

/** The registry's parts wired by hand for unit tests: a member on a connection, reading rings under {@code lock}. */
final class RegistryParts {

    private RegistryParts() {
    }

    /** A subscribed stream on {@code connection}, in stripe 0, whose catch-up reads ids "e-n" under {@code lock}. */
    static Member member(Connection connection, FanOut fanOut, Object lock, LongSupplier lastSeq) {
        CatchUp.Log log = new CatchUp.Log() {
            @Override
            public Object lock() {
                return lock;
            }

            @Override
            public long lastSeqLocked() {
                return lastSeq.getAsLong();
            }

            @Override
            public String idOf(long n) {
                return "e-" + n;
            }

            @Override
            public Cluster cluster() {
                return null;
            }

            @Override
            public String clusterPositionLocked() {
                return null;
            }

            @Override
            public long clusterSeqLocked() {
                return 0;
            }
        };
        // No container: a request whose every answer is null.
        HttpServletRequest request = (HttpServletRequest) java.lang.reflect.Proxy.newProxyInstance(
                RegistryParts.class.getClassLoader(), new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> null);
        return new Member(new DefaultSseStream(connection, null), "client", request, 0, log, fanOut);
    }
}
