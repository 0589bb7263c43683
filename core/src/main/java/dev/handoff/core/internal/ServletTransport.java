package dev.handoff.core.internal;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.WriteListener;
import java.io.IOException;

/**
 * Binds a {@link Connection} to a container: its output stream in non-blocking mode and the container's
 * write events, which it forwards to the connection (errors become close reasons there). The async
 * events reach the connection through the request's {@link Exchange}.
 */
public final class ServletTransport implements Transport, WriteListener {

    /** Tomcat's output stream: it copies what the socket does not take before a non-blocking write returns. */
    private static final String TOMCAT_OUTPUT = "org.apache.catalina.connector.CoyoteOutputStream";
    private static final String TOMCAT_RESPONSE = "org.apache.catalina.connector.ResponseFacade";

    private final Exchange exchange;
    private final ServletOutputStream out;
    private final Connection connection;
    private final boolean holdsWrittenArrays;

    private ServletTransport(Exchange exchange, ServletOutputStream out, Connection connection) {
        this.exchange = exchange;
        this.out = out;
        this.connection = connection;
        this.holdsWrittenArrays = !out.getClass().getName().equals(TOMCAT_OUTPUT);
    }

    /**
     * Binds the connection to the exchange's response: the exchange reports its async events to it, and its
     * writes go to {@code out}. The caller sets the returned listener on {@code out} once the head is
     * committed.
     */
    public static ServletTransport bind(Exchange exchange, ServletOutputStream out, Connection connection) {
        ServletTransport transport = new ServletTransport(exchange, out, connection);
        exchange.attach(connection);
        connection.start(transport);
        return transport;
    }

    /**
     * Whether the container of {@code response} may send from a write's array after the write returned (Jetty),
     * or copies what its socket did not take first (Tomcat): see {@link Transport#holdsWrittenArrays()}.
     */
    public static boolean holdsWrittenArrays(ServletResponse response) {
        ServletResponse r = response;
        while (r instanceof ServletResponseWrapper w) {
            r = w.getResponse();
        }
        return r == null || !r.getClass().getName().equals(TOMCAT_RESPONSE);
    }

    // ---- Transport: called by the connection's writer.

    @Override
    public boolean isReady() {
        return out.isReady();
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public boolean holdsWrittenArrays() {
        return holdsWrittenArrays;
    }

    @Override
    public void complete() {
        exchange.complete();
    }

    @Override
    public void abort() {
        exchange.abort();
    }

    // ---- WriteListener: container threads.

    @Override
    public void onWritePossible() {
        connection.onWritePossible();
    }

    @Override
    public void onError(Throwable t) {
        connection.onContainerError(t);
    }
}
