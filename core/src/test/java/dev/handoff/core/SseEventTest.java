package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.support.SseParser;
import dev.handoff.core.support.SseParser.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SseEventTest {

    private static String wire(SseEvent e) {
        return new String(e.encoded(), StandardCharsets.UTF_8);
    }

    private static List<Event> roundTrip(SseEvent... events) {
        SseParser parser = new SseParser();
        for (SseEvent e : events) {
            parser.feed(wire(e));
        }
        return parser.events();
    }

    @Test
    void encodesEveryFieldInTheDocumentedOrder() {
        SseEvent e = SseEvent.builder().comment("hi").id("7").event("tick").retry(Duration.ofSeconds(3)).data("x")
                .build();
        assertThat(wire(e)).isEqualTo(": hi\nid: 7\nevent: tick\nretry: 3000\ndata: x\n\n");
    }

    @Test
    void multiLineDataBecomesOneDataLinePerLineWhateverTheLineEnd() {
        SseEvent e = SseEvent.of("a\nb\r\nc\rd");
        assertThat(wire(e)).isEqualTo("data: a\ndata: b\ndata: c\ndata: d\n\n");
        assertThat(roundTrip(e)).containsExactly(new Event("message", "a\nb\nc\nd", ""));
    }

    @Test
    void emptyLinesInsideDataSurvive() {
        SseEvent e = SseEvent.of("first\n\n\nlast\n");
        assertThat(roundTrip(e)).containsExactly(new Event("message", "first\n\n\nlast\n", ""));
    }

    @Test
    void emptyDataIsAnEventWithEmptyData() {
        SseEvent e = SseEvent.of("");
        assertThat(wire(e)).isEqualTo("data:\n\n");
        assertThat(roundTrip(e)).containsExactly(new Event("message", "", ""));
    }

    @Test
    void leadingSpacesAndColonsInValuesRoundTrip() {
        SseEvent e = SseEvent.builder().id(" 1:2").event(" spaced").data("  two spaces: and a colon").build();
        assertThat(roundTrip(e)).containsExactly(new Event(" spaced", "  two spaces: and a colon", " 1:2"));
    }

    @Test
    void unicodeIsEncodedAsUtf8AndRoundTrips() {
        String text = "héllo wörld — 日本語 — emoji 🎉";
        SseEvent e = SseEvent.builder().id("ид-1").event("ünïcode").data(text).build();
        byte[] bytes = e.encoded();
        String decoded = new String(bytes, StandardCharsets.UTF_8);
        assertThat(decoded.getBytes(StandardCharsets.UTF_8)).isEqualTo(bytes);
        assertThat(roundTrip(e)).containsExactly(new Event("ünïcode", text, "ид-1"));
    }

    @Test
    void commentsAreIgnoredByTheParserAndSplitPerLine() {
        SseEvent c = SseEvent.comment("one\ntwo");
        assertThat(wire(c)).isEqualTo(": one\n: two\n");
        SseParser parser = new SseParser();
        parser.feed(wire(c) + wire(SseEvent.of("after")));
        assertThat(parser.comments()).containsExactly(" one", " two");
        assertThat(parser.events()).containsExactly(new Event("message", "after", ""));
    }

    @Test
    void retryAndIdAloneUpdateTheClientWithoutAnEvent() {
        SseParser parser = new SseParser();
        parser.feed(wire(SseEvent.builder().retry(Duration.ofMillis(1500)).id("42").build()));
        assertThat(parser.events()).isEmpty();
        assertThat(parser.retry()).isEqualTo(1500);
        assertThat(parser.lastEventId()).isEqualTo("42");
        parser.feed(wire(SseEvent.of("next")));
        assertThat(parser.events()).containsExactly(new Event("message", "next", "42"));
    }

    @Test
    void manyEventsSplitAtEveryByteBoundaryStillParse() {
        String stream = wire(SseEvent.builder().id("1").event("a").data("x\ny").build())
                + wire(SseEvent.comment("keep"))
                + wire(SseEvent.builder().id("2").data("z").build());
        for (int cut = 0; cut <= stream.length(); cut++) {
            SseParser parser = new SseParser();
            parser.feed(stream.substring(0, cut));
            parser.feed(stream.substring(cut));
            assertThat(parser.events()).as("cut at %d", cut).containsExactly(new Event("a", "x\ny", "1"),
                    new Event("message", "z", "2"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb", "a\rb", "a\r\nb", "\n", "end\r"})
    void crOrLfInIdIsRefused(String bad) {
        assertThatThrownBy(() -> SseEvent.builder().id(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SSE id must not contain CR or LF");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb", "a\rb", "x\r\ndata: injected"})
    void crOrLfInEventNameIsRefused(String bad) {
        assertThatThrownBy(() -> SseEvent.builder().event(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SSE event must not contain CR or LF");
    }

    @Test
    void nulInAnIdOrAnEventNameIsRefusedByTheSameRule() {
        assertThatThrownBy(() -> SseEvent.builder().id("a\0b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SSE id must not contain NUL").hasMessageContaining("\"a\\0b\"");
        assertThatThrownBy(() -> SseEvent.builder().event("a\0b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SSE event must not contain NUL");
    }

    @Test
    void anEmptyEventIsRefused() {
        assertThatThrownBy(() -> SseEvent.builder().build()).hasMessageContaining("needs at least one of");
    }

    @Test
    void negativeRetryIsRefused() {
        assertThatThrownBy(() -> SseEvent.builder().retry(Duration.ofMillis(-1))).hasMessageContaining("negative");
    }

    @Test
    void anEventEncodesOnceAndSharesItsBytes() {
        SseEvent e = SseEvent.of("shared");
        assertThat(e.encoded()).isSameAs(e.encoded());
        assertThat(e.encodedLength()).isEqualTo("data: shared\n\n".length());
    }
}
