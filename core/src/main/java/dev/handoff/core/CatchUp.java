package dev.handoff.core;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream's catch-up after a reconnect, queued in its fan-out mailbox between the events before and after
 * it: the retained events it missed, oldest first, then a {@value StreamRegistry#RESET_EVENT} event for each
 * topic it cannot resume, carrying the id to resume from next time.
 */
final class CatchUp implements FanOut.Entry {

    private static final Logger log = LoggerFactory.getLogger(CatchUp.class);

    private final Member member;
    private final List<Topic.Retained> replay;
    private final List<String> resets;
    private final String resetId;

    CatchUp(Member member, List<Topic.Retained> replay, List<String> resets, String resetId) {
        this.member = member;
        this.replay = replay;
        this.resets = resets;
        this.resetId = resetId;
    }

    @Override
    public void deliver(int stripe, FanOut out) {
        for (Topic.Retained r : replay) {
            out.counted(member.deliver(r.frame()));
        }
        for (String topic : resets) {
            byte[] frame = SseEvent.builder().id(resetId).event(StreamRegistry.RESET_EVENT).data(topic).build().encoded();
            out.counted(member.deliver(frame));
        }
        if (!resets.isEmpty()) {
            log.debug("stream {}: could not resume {} after its Last-Event-ID; sent {} events", member.id(), resets,
                    StreamRegistry.RESET_EVENT);
        }
    }
}
