package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The replay ring of a topic, and the rule for topic names. */
class TopicTest {

    private static Topic.Retained event(long seq, long nanos) {
        return new Topic.Retained(seq, "e-" + seq, new byte[] {'x'}, nanos);
    }

    @Test
    void theRingKeepsTheLastEventsAndRemembersWhatItForgot() {
        Topic t = new Topic("t", 2, 0);
        for (long seq = 1; seq <= 5; seq++) {
            t.retain(event(seq * 10, seq), 3, 0);
        }
        assertThat(t.retained()).isEqualTo(3);
        assertThat(t.forgottenUpTo).isEqualTo(20);
        assertThat(t.canResumeAfter(20)).isTrue();
        assertThat(t.canResumeAfter(19)).as("event 20 is gone").isFalse();
        assertThat(t.indexAfter(30)).isEqualTo(1);
        assertThat(t.get(t.indexAfter(30)).seq()).isEqualTo(40);
        assertThat(t.indexAfter(35)).as("between two events").isEqualTo(1);
        assertThat(t.indexAfter(0)).as("before the ring").isZero();
        assertThat(t.indexAfter(50)).as("after the last").isEqualTo(3);
        assertThat(t.seqOf("e-40")).isEqualTo(40);
        assertThat(t.seqOf("e-10")).as("forgotten").isEqualTo(-1);
    }

    @Test
    void theRingGrowsAndWrapsAroundKeepingItsOrder() {
        Topic t = new Topic("t", 1, 0);
        for (long seq = 1; seq <= 1000; seq++) {
            t.retain(event(seq, seq), 300, 0);
        }
        assertThat(t.retained()).isEqualTo(300);
        for (int i = 0; i < 300; i++) {
            assertThat(t.get(i).seq()).isEqualTo(701 + i);
        }
        assertThat(t.indexAfter(850)).isEqualTo(150);
        assertThat(t.forgottenUpTo).isEqualTo(700);
    }

    @Test
    void eventsOlderThanTheAgeLimitAreForgottenEvenWhenTheRingHasRoom() {
        Topic t = new Topic("t", 1, 0);
        t.retain(event(1, 1_000), 100, 500);
        t.retain(event(2, 1_400), 100, 500);
        assertThat(t.retained()).isEqualTo(2);
        t.trim(1_600, 100, 500);
        assertThat(t.retained()).isEqualTo(1);
        assertThat(t.forgottenUpTo).isEqualTo(1);
        t.trim(10_000, 100, 0);
        assertThat(t.retained()).as("age limit zero: no age limit").isEqualTo(1);
        assertThat(t.isUnused()).isFalse();
        t.trim(10_000, 100, 500);
        assertThat(t.isUnused()).isTrue();
    }

    @Test
    void aTopicCreatedAfterOthersWereForgottenCannotResumeBeforeThem() {
        Topic t = new Topic("again", 1, 42);
        assertThat(t.canResumeAfter(41)).isFalse();
        assertThat(t.canResumeAfter(42)).isTrue();
    }

    @Test
    void topicNamesAreShortAndSafeInUrlsLogsAndMetricTags() {
        assertThat(Topic.nameProblem("tasks/42")).isNull();
        assertThat(Topic.nameProblem("chat:room-1_a.b~c@d+e=f")).isNull();
        assertThat(Topic.nameProblem("")).contains("must not be empty");
        assertThat(Topic.nameProblem(null)).contains("must not be empty");
        assertThat(Topic.nameProblem("x".repeat(201))).contains("201 characters long; the maximum is 200");
        assertThat(Topic.nameProblem("a\nb")).contains("U+000A at index 1");
        assertThat(Topic.nameProblem("caf\u00e9")).contains("U+00E9 at index 3");
        assertThat(Topic.nameProblem("a*")).contains("allowed are letters, digits");
    }
}
