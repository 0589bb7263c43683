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
}
