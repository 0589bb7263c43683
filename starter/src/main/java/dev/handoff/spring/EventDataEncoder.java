package dev.handoff.spring;

/**
 * Turns an object into the data of an SSE event. The starter's default uses the application's Jackson
 * mapper; declare a bean of this type to use something else. Strings never reach it: they are sent as they are.
 */
@FunctionalInterface
public interface EventDataEncoder {

    /**
     * @throws IllegalArgumentException if {@code data} cannot be encoded
     */
    String encode(Object data);

    /** The data of an event carrying {@code data}: a {@code CharSequence} as it is, anything else encoded. */
    default String dataOf(Object data) {
        java.util.Objects.requireNonNull(data, "data");
        return data instanceof CharSequence text ? text.toString() : encode(data);
    }
}
