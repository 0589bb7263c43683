package dev.handoff.core.internal;

/**
 * The one home of the rules for header names and values that Handoff sets or passes on (RFC 9110 §5.1,
 * §5.5): a name is a non-empty token; a value holds no CR, LF or NUL, so that nothing an application or a
 * hook sets can split a header or the response. {@link dev.handoff.core.ResponseHead} and the proxy's
 * headers both check through here; each message says which rule broke, where, and shows the text.
 */
public final class HeaderRules {

    /** The characters RFC 9110 allows in a token besides letters and digits. */
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    private HeaderRules() {
    }

    /** Returns {@code name} if it is a header name: a non-empty HTTP token. */
    public static String requireName(String name) {
        if (name == null) {
            throw new NullPointerException("a header name must not be null");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a header name must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isTokenChar(c)) {
                throw new IllegalArgumentException(String.format("header name %s has the character %s at index %d, "
                        + "which is not allowed in an HTTP token", SseEncoder.quote(name), describe(c), i));
            }
        }
        return name;
    }

    /** Returns {@code value} if it may be sent as the value of header {@code name}: no CR, LF or NUL. */
    public static String requireValue(String name, String value) {
        if (value == null) {
            throw new NullPointerException("header " + name + ": the value must not be null");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == '\0') {
                throw new IllegalArgumentException(String.format("header %s: the value %s has %s at index %d; CR, LF "
                        + "and NUL would split the header", name, SseEncoder.quote(value), describe(c), i));
            }
        }
        return value;
    }

    private static boolean isTokenChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || TOKEN_SYMBOLS.indexOf(c) >= 0;
    }

    private static String describe(char c) {
        return c <= 0x20 || c >= 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }
}
