package dev.handoff.core.support;

import java.util.ArrayList;
import java.util.List;

/**
 * An event-stream parser written from the WHATWG HTML standard ("Parsing an event stream", "Interpreting
 * an event stream"), independent of Handoff's encoder, so that encoding is tested against the spec rather
 * than against itself. Feed it text in any pieces; it keeps state across them as a browser does.
 */
public final class SseParser {

    /** A dispatched event, as a browser's EventSource would see it. */
    public record Event(String type, String data, String lastEventId) {
    }

    private final StringBuilder line = new StringBuilder();
    private final StringBuilder data = new StringBuilder();
    private final List<Event> events = new ArrayList<>();
    private final List<String> comments = new ArrayList<>();
    private String eventType = "";
    private String lastEventId = "";
    private long retry = -1;
    private boolean lastWasCr;
    private boolean first = true;

    /** Feeds text; returns the events dispatched by it. */
    public List<Event> feed(CharSequence text) {
        int before = events.size();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (first) {
                first = false;
                if (c == '\uFEFF') {
                    continue;
                }
            }
            if (lastWasCr && c == '\n') {
                lastWasCr = false;
                continue;
            }
            lastWasCr = c == '\r';
            if (c == '\r' || c == '\n') {
                processLine(line.toString());
                line.setLength(0);
            } else {
                line.append(c);
            }
        }
        return new ArrayList<>(events.subList(before, events.size()));
    }

    private void processLine(String l) {
        if (l.isEmpty()) {
            dispatch();
            return;
        }
        if (l.charAt(0) == ':') {
            comments.add(l.substring(1));
            return;
        }
        int colon = l.indexOf(':');
        String field = colon < 0 ? l : l.substring(0, colon);
        String value = colon < 0 ? "" : l.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "event" -> eventType = value;
            case "data" -> data.append(value).append('\n');
            case "id" -> {
                if (value.indexOf('\0') < 0) {
                    lastEventId = value;
                }
            }
            case "retry" -> {
                if (!value.isEmpty() && value.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                    retry = Long.parseLong(value);
                }
            }
            default -> {
                // Ignored, as the spec says.
            }
        }
    }

    private void dispatch() {
        if (data.length() == 0) {
            eventType = "";
            return;
        }
        data.setLength(data.length() - 1);
        events.add(new Event(eventType.isEmpty() ? "message" : eventType, data.toString(), lastEventId));
        data.setLength(0);
        eventType = "";
    }

    public List<Event> events() {
        return events;
    }

    public List<String> comments() {
        return comments;
    }

    public String lastEventId() {
        return lastEventId;
    }

    public long retry() {
        return retry;
    }
}
