package dev.handoff.bench.proxy;

import dev.handoff.bench.server.JvmStats;
import dev.handoff.bench.server.ServerMain;
import dev.handoff.proxy.StreamingProxy;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * One proxy under test: {@code ProxyServer <name> <port> <backend>}, a Spring Boot 3.5 app that forwards
 * {@code /proxy/<path>} to {@code <backend>/<path>}, the way an application would: Handoff's
 * {@link StreamingProxy} (the starter's bean) called from a controller, or Jetty's {@code AsyncProxyServlet}
 * registered as a servlet, each with its defaults. {@code /hello} and {@code /stats} as on the SSE servers
 * ({@code subscribers} is the proxy's count of open exchanges, -1 for Jetty's).
 */
public final class ProxyServer {

    /** The proxies, by the name the proxy bench gives them. */
    public static final List<String> NAMES = List.of("handoff-jetty", "handoff-jetty-jdk", "handoff-tomcat",
            "handoff-tomcat-jdk", "async-proxy-servlet");

    private ProxyServer() {
    }

    public static void main(String[] args) {
        if (args.length != 3 || !NAMES.contains(args[0])) {
            throw new IllegalArgumentException("usage: ProxyServer <" + String.join("|", NAMES) + "> <port> <backend>");
        }
        String name = args[0];
        Map<String, Object> props = ServerMain.commonProperties(args[1]);
        props.put("bench.backend", args[2]);
        props.put("handoff.proxy.client", name.endsWith("-jdk") ? "jdk" : "jetty");
        List<Class<?>> sources = new ArrayList<>(List.of(Stats.class));
        if (name.startsWith("handoff")) {
            sources.add(HandoffProxy.class);
        } else {
            props.put("spring.autoconfigure.exclude", "dev.handoff.spring.HandoffAutoConfiguration");
            sources.add(JettyProxy.class);
        }
        if (name.startsWith("handoff-tomcat")) {
            sources.add(ServerMain.TomcatConnector.class);
        } else {
            sources.add(Jetty.class);
        }
        SpringApplication app = new SpringApplication(sources.toArray(Class<?>[]::new));
        app.setDefaultProperties(props);
        app.run();
        System.out.println("proxy server " + name + " up on " + args[1] + ", backend " + args[2]);
    }

    /** Handoff's proxy as an application calls it: the starter's bean, from a controller. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(HandoffProxy.Forward.class)
    static class HandoffProxy {
        @RestController
        static class Forward {
            private final StreamingProxy proxy;
            private final String backend;

            Forward(StreamingProxy proxy, Environment env) {
                this.proxy = proxy;
                this.backend = env.getRequiredProperty("bench.backend");
            }

            @RequestMapping("/proxy/**")
            void forward(HttpServletRequest request) {
                String path = request.getRequestURI().substring("/proxy".length());
                String query = request.getQueryString();
                proxy.forward(request, URI.create(backend + path + (query == null ? "" : "?" + query)));
            }
        }
    }

    /** Jetty's AsyncProxyServlet.Transparent with its defaults, under /proxy. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class JettyProxy {
        @Bean
        ServletRegistrationBean<AsyncProxyServlet.Transparent> asyncProxyServlet(
                Environment env) {
            ServletRegistrationBean<AsyncProxyServlet.Transparent> bean = new ServletRegistrationBean<>(
                    new AsyncProxyServlet.Transparent(), "/proxy/*");
            bean.addInitParameter("proxyTo", env.getRequiredProperty("bench.backend"));
            bean.addInitParameter("prefix", "/proxy");
            bean.setAsyncSupported(true);
            bean.setLoadOnStartup(1);
            return bean;
        }
    }

    /** {@code /hello}, {@code /stats}: the same for every proxy. */
    @RestController
    static class Stats {
        private final ObjectProvider<StreamingProxy> proxy;

        Stats(ObjectProvider<StreamingProxy> proxy) {
            this.proxy = proxy;
        }

        @GetMapping("/hello")
        String hello() {
            return "ok";
        }

        @GetMapping("/stats")
        Map<String, Object> stats(@RequestParam(defaultValue = "false") boolean gc) {
            StreamingProxy p = proxy.getIfAvailable();
            return JvmStats.read(p == null ? -1 : p.stats().active(), gc);
        }
    }

    /** Tomcat and Jetty share the class path: this bean makes Spring Boot pick Jetty. */
    @Configuration(proxyBeanMethods = false)
    static class Jetty {
        @Bean
        JettyServletWebServerFactory jettyServletWebServerFactory() {
            return new JettyServletWebServerFactory();
        }
    }
}
