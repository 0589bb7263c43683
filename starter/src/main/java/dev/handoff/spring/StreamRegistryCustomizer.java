package dev.handoff.spring;

import dev.handoff.registry.StreamRegistry;

/**
 * Changes the {@link StreamRegistry} the starter builds, after the {@code handoff.*} properties were applied:
 * for example a client key from the authenticated user, or a listener. Every bean of this type is applied,
 * in {@code @Order}.
 */
@FunctionalInterface
public interface StreamRegistryCustomizer {

    void customize(StreamRegistry.Builder builder);
}
