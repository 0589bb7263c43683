package dev.handoff.core.internal;

/**
 * A failure in one short line, for log lines and for the bodies of error answers: a container's or a
 * client library's exception message can be a whole connection dump over several lines (Jetty's
 * {@code EofException}), which belongs in neither.
 */
public final class FailureText {

    /** Longest failure message quoted. */
    private static final int MAX_CHARS = 160;

    private FailureText() {
    }

    /** Its class and the start of its message, on one line. */
    public static String brief(Throwable t) {
        String message = t.getMessage();
        String name = t.getClass().getName();
        if (message == null || message.isBlank()) {
            return name;
        }
        String line = message.replaceAll("\\s+", " ").trim();
        return name + ": " + (line.length() <= MAX_CHARS ? line : line.substring(0, MAX_CHARS) + "...");
    }

    /** True if the failure, or one of its causes, is a time-out. */
    public static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.util.concurrent.TimeoutException || c instanceof java.net.SocketTimeoutException
                    || c instanceof java.net.http.HttpTimeoutException) {
                return true;
            }
        }
        return false;
    }
}
