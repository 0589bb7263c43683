package dev.handoff.bench.server;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Starts one comparison server: {@code ServerMain <name> <port> [--spring.property=value ...]}. Every server is a Spring Boot 3.5 app on
 * the same class path, with the same settings where they apply: loopback only, connection limits raised
 * above the open-file limit, no async time-out, a heartbeat every {@value #HEARTBEAT_SECONDS} s.
 */
public final class ServerMain {

    /** Every server sends a comment this often on an idle stream; that is how each finds clients that left. */
    static final int HEARTBEAT_SECONDS = 5;

    /** The servers, by the name the bench gives them. */
    public static final List<String> NAMES = List.of("handoff-tomcat", "handoff-jetty", "emitter-tomcat",
            "emitter-jetty", "blocking-platform", "blocking-virtual", "webflux-netty");

    private ServerMain() {
    }

    public static void main(String[] args) {
        if (args.length < 2 || !NAMES.contains(args[0])) {
            throw new IllegalArgumentException("usage: ServerMain <" + String.join("|", NAMES)
                    + "> <port> [--spring.property=value ...]");
        }
        String name = args[0];
        Map<String, Object> props = commonProperties(args[1]);
        // Handoff logs a stream cut for being slow (or failing) at INFO or above: keep those in the server's log.
        props.put("logging.level.dev.handoff", "info");
        props.put("handoff.heartbeat", HEARTBEAT_SECONDS + "s");
        // A ring that holds a whole burst round (512 events): a stream that falls behind reads on from it. The
        // kernel's send buffer is capped (64 KiB) and no longer holds megabytes per stream in its place.
        props.put("handoff.replay.events", "1024");
        if (!name.startsWith("handoff")) {
            props.put("spring.autoconfigure.exclude", "dev.handoff.spring.HandoffAutoConfiguration");
        }
        SpringApplication app = switch (name) {
            case "handoff-tomcat" -> new SpringApplication(HandoffServer.class, TomcatConnector.class);
            case "handoff-jetty" -> new SpringApplication(HandoffServer.class, Jetty.class);
            case "emitter-tomcat" -> new SpringApplication(EmitterServer.class);
            case "emitter-jetty" -> new SpringApplication(EmitterServer.class, Jetty.class);
            case "blocking-platform" -> new SpringApplication(BlockingServer.class);
            case "blocking-virtual" -> {
                if (Runtime.version().feature() < 21) {
                    throw new IllegalStateException("blocking-virtual needs JDK 21 or later, this is " + Runtime.version());
                }
                props.put("spring.threads.virtual.enabled", "true");
                yield new SpringApplication(BlockingServer.class);
            }
            case "webflux-netty" -> {
                SpringApplication flux = new SpringApplication(FluxServer.class);
                flux.setWebApplicationType(WebApplicationType.REACTIVE);
                yield flux;
            }
            default -> throw new IllegalArgumentException(name);
        };
        app.setDefaultProperties(props);
        // Anything after the port is Spring's: --handoff.cluster.enabled=true, say (system properties work too).
        app.run(Arrays.copyOfRange(args, 2, args.length));
        System.out.println("bench server " + name + " up on " + args[1]);
    }

    /**
     * What every bench server sets: loopback on {@code port}, quiet logs, connection limits above the open-file
     * limit, no async time-out.
     */
    public static Map<String, Object> commonProperties(String port) {
        Map<String, Object> props = new HashMap<>();
        props.put("server.port", port);
        props.put("server.address", "127.0.0.1");
        props.put("spring.main.banner-mode", "off");
        props.put("logging.level.root", "warn");
        props.put("server.tomcat.max-connections", "30000");
        props.put("server.tomcat.accept-count", "1000");
        props.put("spring.mvc.async.request-timeout", "-1");
        return props;
    }

    /**
     * Tomcat connector properties from {@code -Dbench.tomcat.connector=name=value,...} (for example
     * {@code socket.appReadBufSize=2048}): how the README's per-stream heap figures for Tomcat's settings were
     * measured. Nothing is set without it.
     */
    @Configuration(proxyBeanMethods = false)
    public static class TomcatConnector {
        @Bean
        TomcatConnectorCustomizer benchConnectorProperties() {
            String settings = System.getProperty("bench.tomcat.connector", "");
            return connector -> {
                for (String setting : settings.split(",")) {
                    if (setting.isBlank()) {
                        continue;
                    }
                    String[] nameValue = setting.split("=", 2);
                    if (!connector.setProperty(nameValue[0].trim(), nameValue[1].trim())) {
                        throw new IllegalArgumentException("Tomcat's connector has no property " + nameValue[0]);
                    }
                }
            };
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
