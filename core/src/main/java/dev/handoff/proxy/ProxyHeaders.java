package dev.handoff.proxy;

import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.HeaderRules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The headers a {@link StreamingProxy} is about to send, one way or the other, for hooks to change. Names are
 * case-insensitive. Every name and value is checked as it is set: a name must be an HTTP token, a value
 * must not contain CR, LF or NUL, so that nothing a hook sets can split a header or a message.
 */
public final class ProxyHeaders {

    /** Hop-by-hop headers (RFC 9110, section 7.6.1), never forwarded, in either direction. */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");

    private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    ProxyHeaders() {
    }

    /** The values of {@code name}, in order; empty if absent. */
    public List<String> all(String name) {
        return Collections.unmodifiableList(headers.getOrDefault(name, List.of()));
    }

    /** The first value of {@code name}, or null. */
    public String first(String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Replaces every value of {@code name} with {@code value}. */
    public ProxyHeaders set(String name, String value) {
        List<String> values = new ArrayList<>(1);
        values.add(HeaderRules.requireValue(HeaderRules.requireName(name), value));
        headers.put(name, values);
        return this;
    }

    /** Adds a value to {@code name}. */
    public ProxyHeaders add(String name, String value) {
        headers.computeIfAbsent(HeaderRules.requireName(name), n -> new ArrayList<>(1)).add(HeaderRules.requireValue(name, value));
        return this;
    }

    /** Removes {@code name}; returns whether it was there. */
    public boolean remove(String name) {
        return headers.remove(name) != null;
    }

    public boolean contains(String name) {
        return headers.containsKey(name);
    }

    /** Calls {@code action} once per (name, value), in name order. */
    public void forEach(BiConsumer<String, String> action) {
        headers.forEach((name, values) -> values.forEach(v -> action.accept(name, v)));
    }

    /**
     * Removes the hop-by-hop headers: the fixed ones, {@code Proxy-*}, and every header that
     * {@code Connection} names.
     */
    void removeHopByHop() {
        for (String value : all("Connection")) {
            for (String token : value.split(",")) {
                String named = token.trim();
                if (!named.isEmpty()) {
                    headers.remove(named);
                }
            }
        }
        headers.keySet().removeIf(name -> {
            String lower = name.toLowerCase(Locale.ROOT);
            return HOP_BY_HOP.contains(lower) || lower.startsWith("proxy-");
        });
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
