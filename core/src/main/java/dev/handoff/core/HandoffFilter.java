package dev.handoff.core;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes {@link Handoff} available to every request it sees ({@link Handoff#from}), with default
 * {@link StreamOptions}; answers a {@link HandoffRejectedException} with its status and message; and on
 * {@link #destroy()} closes the streams opened through it with {@link CloseReason#SHUTDOWN}.
 *
 * <p>Register it with async support, before the servlets that hand off. Defaults come from the
 * constructor or from init parameters, each optional:
 * <table>
 *   <caption>Init parameters</caption>
 *   <tr><th>name</th><th>example</th></tr>
 *   <tr><td>max-queued-bytes</td><td>65536</td></tr>
 *   <tr><td>overflow</td><td>disconnect, drop-oldest, fail-write</td></tr>
 *   <tr><td>heartbeat</td><td>15s (also ms, m, h, or ISO-8601 such as PT15S; 0 turns it off)</td></tr>
 *   <tr><td>idle-timeout</td><td>0 (off)</td></tr>
 *   <tr><td>write-timeout</td><td>30s</td></tr>
 *   <tr><td>max-last-event-id-length</td><td>256</td></tr>
 *   <tr><td>min-body-rate</td><td>1024 (bytes/s; 0 = off)</td></tr>
 *   <tr><td>min-body-rate-window</td><td>10s</td></tr>
 * </table>
 */
public class HandoffFilter implements Filter {

    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");

    private volatile StreamOptions options;
    private final Set<StreamHandle> open = ConcurrentHashMap.newKeySet();

    /** Defaults from init parameters, else {@link StreamOptions#defaults()}. */
    public HandoffFilter() {
        this(StreamOptions.defaults());
    }

    /** Defaults for the streams of this filter's requests; init parameters, if any, override them. */
    public HandoffFilter(StreamOptions options) {
        this.options = options;
    }

    @Override
    public void init(FilterConfig config) {
        options = configure(options, config::getInitParameter);
    }

    /** Applies the init parameters that {@code parameters} has to {@code base}. */
    static StreamOptions configure(StreamOptions base, Function<String, String> parameters) {
        StreamOptions o = base;
        String v;
        if ((v = parameters.apply("max-queued-bytes")) != null) {
            o = o.withMaxQueuedBytes(integer("max-queued-bytes", v));
        }
        if ((v = parameters.apply("overflow")) != null) {
            o = o.withOverflow(policy(v));
        }
        if ((v = parameters.apply("heartbeat")) != null) {
            o = o.withHeartbeat(duration("heartbeat", v));
        }
        if ((v = parameters.apply("idle-timeout")) != null) {
            o = o.withIdleTimeout(duration("idle-timeout", v));
        }
        if ((v = parameters.apply("write-timeout")) != null) {
            o = o.withWriteTimeout(duration("write-timeout", v));
        }
        if ((v = parameters.apply("max-last-event-id-length")) != null) {
            o = o.withMaxLastEventIdLength(integer("max-last-event-id-length", v));
        }
        String rate = parameters.apply("min-body-rate");
        String window = parameters.apply("min-body-rate-window");
        if (rate != null || window != null) {
            o = o.withMinBodyRate(rate != null ? integer("min-body-rate", rate) : o.minBodyRate(),
                    window != null ? duration("min-body-rate-window", window) : o.minBodyRateWindow());
        }
        return o;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest http) || !(response instanceof HttpServletResponse httpResponse)) {
            chain.doFilter(request, response);
            return;
        }
        if (!(request.getAttribute(Handoff.ATTRIBUTE) instanceof Handoff)) {
            request.setAttribute(Handoff.ATTRIBUTE, new Handoff(http, httpResponse, options, this::track));
        }
        try {
            chain.doFilter(request, response);
        } catch (HandoffRejectedException e) {
            reject(http, httpResponse, e);
        } catch (ServletException e) {
            if (e.getRootCause() instanceof HandoffRejectedException rejected) {
                reject(http, httpResponse, rejected);
            } else {
                throw e;
            }
        }
    }

    private static void reject(HttpServletRequest request, HttpServletResponse response, HandoffRejectedException e)
            throws IOException {
        if (response.isCommitted()) {
            throw e;
        }
        e.respond(request, response);
    }

    private void track(StreamHandle handle) {
        open.add(handle);
        handle.onClose(status -> open.remove(handle));
    }

    /** Streams opened through this filter that have not ended. */
    public int openStreams() {
        return open.size();
    }

    /** The defaults this filter gives its requests' streams. */
    public StreamOptions options() {
        return options;
    }

    /** Closes the streams opened through this filter, gracefully, with {@link CloseReason#SHUTDOWN}. */
    @Override
    public void destroy() {
        for (StreamHandle handle : List.copyOf(open)) {
            handle.close(CloseReason.SHUTDOWN, "the web application is stopping");
        }
    }

    private static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("HandoffFilter init parameter " + name + " must be a whole number: "
                    + value);
        }
    }

    private static OverflowPolicy policy(String value) {
        try {
            return OverflowPolicy.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("HandoffFilter init parameter overflow must be one of disconnect, "
                    + "drop-oldest, fail-write: " + value);
        }
    }

    static Duration duration(String name, String value) {
        String v = value.trim();
        Matcher m = SIMPLE_DURATION.matcher(v.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        try {
            return Duration.parse(v);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("HandoffFilter init parameter " + name + " must be a duration such as "
                    + "500ms, 15s, 2m or PT15S: " + value);
        }
    }
}
