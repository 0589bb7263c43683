package dev.handoff.core.support;

import dev.handoff.core.HandoffFilter;
import dev.handoff.core.StreamOptions;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * A web application for container tests, registered through the portable {@link ServletContext} API so
 * that the same routes run unchanged on every container.
 */
public final class TestApp {

    /** What a route does with a request. */
    @FunctionalInterface
    public interface Handler {
        void handle(HttpServletRequest request, HttpServletResponse response) throws Exception;
    }

    private record Route(String path, Handler handler, boolean async, boolean filtered) {
    }

    /** A servlet of another library (say, a proxy servlet to compare with), with its init parameters. */
    private record Foreign(String path, HttpServlet servlet, Map<String, String> init) {
    }

    private final List<Route> routes = new ArrayList<>();
    private final List<Foreign> foreign = new ArrayList<>();
    private HandoffFilter filter = new HandoffFilter();
    private java.time.Duration containerIdleTimeout;

    /** The container's own idle (socket read) time-out: Jetty's connector idle time-out, Tomcat's connectionTimeout. */
    private boolean http2;
    private TestCertificate tls;

    public TestApp containerIdleTimeout(java.time.Duration timeout) {
        this.containerIdleTimeout = timeout;
        return this;
    }

    /** The container idle time-out to set, or null for the container's default. */
    java.time.Duration containerIdleTimeout() {
        return containerIdleTimeout;
    }

    /** The container also speaks cleartext HTTP/2 with prior knowledge (h2c) on its port. */
    public TestApp http2() {
        this.http2 = true;
        return this;
    }

    boolean http2Enabled() {
        return http2;
    }

    private final java.util.Map<String, String> tomcatHttp2 = new java.util.LinkedHashMap<>();

    /** A property of Tomcat's {@code Http2Protocol} (as in server.xml), for a Tomcat server; Jetty has no such one. */
    public TestApp tomcatHttp2(String property, String value) {
        tomcatHttp2.put(property, value);
        return this;
    }

    java.util.Map<String, String> tomcatHttp2() {
        return tomcatHttp2;
    }

    /** The container speaks TLS only, with this certificate, offering HTTP/2 (h2) and HTTP/1.1 by ALPN. */
    public TestApp tls(TestCertificate certificate) {
        this.tls = certificate;
        return this;
    }

    TestCertificate tls() {
        return tls;
    }

    /** The filter's default stream options. */
    public TestApp filterOptions(StreamOptions options) {
        this.filter = new HandoffFilter(options);
        return this;
    }

    /** An async-supported servlet behind {@link HandoffFilter}. */
    public TestApp route(String path, Handler handler) {
        routes.add(new Route(path, handler, true, true));
        return this;
    }

    /** A servlet without async support, behind the filter. */
    public TestApp blockingRoute(String path, Handler handler) {
        routes.add(new Route(path, handler, false, true));
        return this;
    }

    /** An async-supported servlet that the filter does not see. */
    public TestApp bareRoute(String path, Handler handler) {
        routes.add(new Route(path, handler, true, false));
        return this;
    }

    /** Another library's async-supported servlet, not behind the filter. */
    public TestApp servlet(String path, HttpServlet servlet, Map<String, String> init) {
        foreign.add(new Foreign(path, servlet, Map.copyOf(init)));
        return this;
    }

    public HandoffFilter filter() {
        return filter;
    }

    void install(ServletContext context) {
        List<String> filtered = new ArrayList<>();
        for (Route route : routes) {
            String base = route.path().replaceAll("[^A-Za-z0-9]", "");
            String name = (base.isEmpty() ? "root" : base) + (route.async() ? "" : "Blocking");
            ServletRegistration.Dynamic servlet = context.addServlet(name, new HandlerServlet(route.handler()));
            servlet.setAsyncSupported(route.async());
            servlet.addMapping(route.path());
            if (route.filtered()) {
                filtered.add(name);
            }
        }
        for (Foreign f : foreign) {
            ServletRegistration.Dynamic servlet = context.addServlet(f.servlet().getClass().getSimpleName() + foreign
                    .indexOf(f), f.servlet());
            servlet.setAsyncSupported(true);
            servlet.setInitParameters(f.init());
            servlet.addMapping(f.path());
        }
        FilterRegistration.Dynamic registration = context.addFilter("handoff", filter);
        registration.setAsyncSupported(true);
        registration.addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false,
                filtered.toArray(String[]::new));
    }

    private static final class HandlerServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient Handler handler;

        HandlerServlet(Handler handler) {
            this.handler = handler;
        }

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response)
                throws ServletException, IOException {
            try {
                handler.handle(request, response);
            } catch (IOException | ServletException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new ServletException(e);
            }
        }
    }
}
