package dev.handoff.spring;

import dev.handoff.redis.RedisCluster;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * With {@code dev.handoff:handoff-redis} on the class path and {@code handoff.cluster.enabled=true}, the starter's
 * registry shares its topics with the application's other instances through Redis: a {@link RedisCluster} on the
 * Redis of {@code handoff.cluster.redis-url}, else of Spring Boot's {@code spring.data.redis.*}. Read from the
 * environment, not from Spring Data's classes, so that it needs neither Spring Data Redis nor one Boot line's
 * property classes.
 */
@AutoConfiguration(before = HandoffAutoConfiguration.class)
@ConditionalOnClass(RedisCluster.class)
@ConditionalOnProperty(prefix = "handoff.cluster", name = "enabled", havingValue = "true")
public class HandoffClusterAutoConfiguration {

    @Bean
    StreamRegistryCustomizer handoffCluster(HandoffProperties properties, Environment env) {
        HandoffProperties.Cluster settings = properties.getCluster();
        String uri = settings.getRedisUrl() != null ? settings.getRedisUrl() : redisUri(env);
        return builder -> builder.cluster(RedisCluster.builder(uri).keyPrefix(settings.getKeyPrefix())
                        .busLength(settings.getBusLength()).commandTimeout(settings.getCommandTimeout()).build())
                .deliverLocallyWhenClusterFails(settings.isDeliverLocallyOnFailure());
    }

    /** {@code spring.data.redis.url}, or a URI made of its host, port, username, password, database and ssl. */
    static String redisUri(Environment env) {
        String url = env.getProperty("spring.data.redis.url");
        if (url != null && !url.isBlank()) {
            return url;
        }
        boolean ssl = env.getProperty("spring.data.redis.ssl.enabled", Boolean.class, false);
        String user = env.getProperty("spring.data.redis.username");
        String password = env.getProperty("spring.data.redis.password");
        StringBuilder uri = new StringBuilder(ssl ? "rediss://" : "redis://");
        if (password != null) {
            if (user != null) {
                uri.append(encode(user));
            }
            uri.append(':').append(encode(password)).append('@');
        }
        uri.append(env.getProperty("spring.data.redis.host", "localhost")).append(':')
                .append(env.getProperty("spring.data.redis.port", "6379")).append('/')
                .append(env.getProperty("spring.data.redis.database", "0"));
        return uri.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
