package dev.handoff.redis;

import static dev.handoff.redis.Instance.WAIT;
import static dev.handoff.redis.Instance.awaitData;
import static dev.handoff.redis.Instance.data;
import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client resumes on any instance, from Redis's per-topic logs when the instance's own rings do not hold its
 * {@code Last-Event-ID}: events published before the instance started, or while the client was on another one,
 * arrive once each, in order, and live delivery follows with no gap and no duplicate.
 */
class ClusterResumeTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final AtomicInteger APPS = new AtomicInteger();

    private final List<Instance> open = new ArrayList<>();

    private Instance start(String prefix, boolean jetty, UnaryOperator<StreamRegistry.Builder> registry) throws Exception {
        Instance i = Instance.start(redis, prefix, jetty, b -> b.commandTimeout(Duration.ofSeconds(1)), registry);
        open.add(i);
        return i;
    }

    private static String newApp() {
        return "resume" + APPS.incrementAndGet() + ":";
    }

    @AfterEach
    void closeAll() throws Exception {
        for (Instance i : open) {
            i.close();
        }
    }

    @Test
    void anInstanceThatStartedAfterTheEventsResumesThemFromRedis() throws Exception {
        String app = newApp();
        Instance a = start(app, true, UnaryOperator.identity());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(a.publish("late", "e" + i));
        }
        Instance b = start(app, false, UnaryOperator.identity());

        StreamClient.Conn back = b.subscribe("late", "Last-Event-ID: " + ids.get(1));
        List<Event> caught = back.awaitEvents(3, WAIT);
        assertThat(data(caught)).containsExactly("e2", "e3", "e4");
        assertThat(caught.stream().map(Event::lastEventId)).containsExactlyElementsOf(ids.subList(2, 5));
        a.publish("late", "e5");
        assertThat(data(back.awaitEvents(4, WAIT))).containsExactly("e2", "e3", "e4", "e5");
    }

    @Test
    void aThousandEventsOf4KiBMissedOnOneInstanceArriveOnTheOtherWhilePublishingGoesOn() throws Exception {
        String app = newApp();
        UnaryOperator<StreamRegistry.Builder> replay = r -> r.replay(5_000, Duration.ofMinutes(5));
        Instance a = start(app, true, replay);
        Instance b = start(app, false, replay);
        String pad = "x".repeat(4096);
        String first = a.publish("big", "0 " + pad);
        List<CompletableFuture<String>> taken = new ArrayList<>();
        for (int i = 1; i <= 1_000; i++) {
            taken.add(a.registry.publishAsync("big", SseEvent.of(i + " " + pad)).toCompletableFuture());
        }
        CompletableFuture.allOf(taken.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

        // B follows no such topic and never saw these events: its catch-up comes from Redis, while A goes on
        // publishing, so that the switch to live delivery happens with events in flight.
        b.client.sequenceBy(e -> e.data().substring(0, e.data().indexOf(' ')));
        StreamClient.Conn back = b.client.getFrom(1, "/sse?topic=big", "Last-Event-ID: " + first);
        int total = 1_500;
        for (int i = 1_001; i <= total; i++) {
            a.registry.publish("big", SseEvent.of(i + " " + pad));
        }
        back.awaitEventCount(total, WAIT);
        assertThat(back.outOfOrder()).as("events out of order, missing or twice").isNull();
        assertThat(back.eventCount()).isEqualTo(total);
    }

    @Test
    void aClientOfTwoTopicsResumesBothInTheOrderTheyWerePublished() throws Exception {
        String app = newApp();
        Instance a = start(app, true, UnaryOperator.identity());
        Instance b = start(app, false, UnaryOperator.identity());
        StreamClient.Conn first = a.subscribe("left&topic=right");
        String seen = a.publish("left", "l0");
        first.awaitEvents(1, WAIT);
        first.close();
        for (int i = 1; i <= 3; i++) {
            a.publish("left", "l" + i);
            b.publish("right", "r" + i);
        }
        a.publish("elsewhere", "not followed");

        StreamClient.Conn back = b.subscribe("left&topic=right", "Last-Event-ID: " + seen);
        assertThat(data(back.awaitEvents(6, WAIT))).containsExactly("l1", "r1", "l2", "r2", "l3", "r3");
        b.publish("right", "r4");
        assertThat(data(back.awaitEvents(7, WAIT))).endsWith("r3", "r4").doesNotHaveDuplicates();
    }

    @Test
    void anIdTrimmedFromTheTopicsLogGetsResetOnEveryInstanceAndLiveEventsFollow() throws Exception {
        String app = newApp();
        UnaryOperator<StreamRegistry.Builder> small = r -> r.replay(10, Duration.ofMinutes(5));
        Instance a = start(app, true, small);
        Instance b = start(app, false, small);
        String oldest = a.publish("trimmed", "e0");
        for (int i = 1; i <= 400; i++) {
            a.registry.publish("trimmed", "e" + i);
        }
        String last = a.publish("trimmed", "e401");

        for (Instance i : List.of(a, b)) {
            StreamClient.Conn back = i.subscribe("trimmed", "Last-Event-ID: " + oldest);
            Event reset = back.awaitEvents(1, WAIT).get(0);
            assertThat(reset.type()).isEqualTo(StreamRegistry.RESET_EVENT);
            assertThat(reset.data()).isEqualTo("trimmed");
            // Its id resumes from where the log now begins: nothing before it is owed any more.
            assertThat(reset.lastEventId()).isEqualTo(last);
        }
        a.publish("trimmed", "after");
        for (Instance i : List.of(a, b)) {
            awaitData(i.client.get("/sse?topic=trimmed", "Last-Event-ID: " + last), "after");
        }
    }

    @Test
    void idsRedisCannotPlaceGetResetAndTheStreamGoesLive() throws Exception {
        String app = newApp();
        UnaryOperator<StreamRegistry.Builder> aMinute = r -> r.replay(100, Duration.ofMinutes(1));
        Instance a = start(app, true, aMinute);
        Instance b = start(app, false, aMinute);
        String real = a.publish("odd", "e0");
        // B resets a stream to its own position: one B takes before it read e0 from the bus rightly gets e0 later.
        b.awaitClusterStats(stats -> real.equals(stats.position()), "instance B at e0");
        String epoch = real.substring(0, real.indexOf('_'));
        List<String> unplaceable = List.of(
                "garbage",
                "00000000_" + real.substring(real.indexOf('_') + 1), // another history
                epoch + "_1000-0", // older than the replay age
                epoch + "_99999999999999-0"); // never issued
        List<StreamClient.Conn> conns = new ArrayList<>();
        for (String id : unplaceable) {
            StreamClient.Conn conn = b.subscribe("odd", "Last-Event-ID: " + id);
            conns.add(conn);
            Event reset = conn.awaitEvents(1, WAIT).get(0);
            assertThat(reset.type()).as("for Last-Event-ID %s", id).isEqualTo(StreamRegistry.RESET_EVENT);
            assertThat(reset.lastEventId()).as("a position of the current history").startsWith(epoch + "_");
        }
        a.publish("odd", "live");
        for (StreamClient.Conn conn : conns) {
            awaitData(conn, "live");
            assertThat(data(conn.events())).containsExactly("odd", "live");
        }
    }

    @Test
    void aResumeOnTheInstanceThatHoldsTheIdNeedsNoRedis() throws Exception {
        String app = newApp();
        Instance a = start(app, true, UnaryOperator.identity());
        StreamClient.Conn first = a.subscribe("near");
        String e0 = a.publish("near", "e0");
        a.publish("near", "e1");
        first.awaitEvents(2, WAIT);
        first.close();
        redis.pause();
        try {
            StreamClient.Conn back = a.subscribe("near", "Last-Event-ID: " + e0);
            assertThat(data(back.awaitEvents(1, WAIT))).containsExactly("e1");
        } finally {
            redis.resume();
        }
    }

    @Test
    void whenRedisCannotBeReadTheResumingStreamGetsResetAndStaysOpenForLiveEvents() throws Exception {
        String app = newApp();
        Instance a = start(app, true, UnaryOperator.identity());
        Instance b = start(app, false, UnaryOperator.identity());
        String e0 = a.publish("down", "e0");
        String e1 = a.publish("down", "e1");
        // B has read both from the bus before Redis stops answering: its reset then says "after e1". (Else B
        // delivers them after Redis comes back, after a reset from before e0: right, but not what is tested here.)
        b.awaitClusterStats(stats -> e1.equals(stats.position()), "instance B at e1");
        redis.pause();
        StreamClient.Conn back;
        try {
            back = b.subscribe("down", "Last-Event-ID: " + e0);
            // The read times out (commandTimeout 1 s): the client is told, rather than left waiting.
            Event reset = back.awaitEvents(1, WAIT).get(0);
            assertThat(reset.type()).isEqualTo(StreamRegistry.RESET_EVENT);
            assertThat(b.registry.openStreams()).isEqualTo(1);
        } finally {
            redis.resume();
        }
        a.publishUntilTaken("down", "after");
        awaitData(back, "after");
        assertThat(data(back.events())).doesNotContain("e1");
    }
}
