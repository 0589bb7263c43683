package dev.handoff.sample;

import dev.handoff.core.ByteStream;
import dev.handoff.core.CloseReason;
import dev.handoff.core.Handoff;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * An upload read as it arrives, one buffer at a time, with its progress published to a topic while the body
 * is still coming in; the page follows that topic over SSE.
 */
@RestController
class UploadController {

    static final long MAX_UPLOAD = 200L << 20;
    private static final long REPORT_EVERY = 256 * 1024;

    record UploadProgress(String upload, long received, boolean done) {
    }

    private final HandoffStreams streams;

    UploadController(HandoffStreams streams) {
        this.streams = streams;
    }

    @GetMapping(path = "/api/uploads/{id}/progress", produces = "text/event-stream")
    EventStream progress(@PathVariable String id) {
        return streams.subscribe("uploads/" + id);
    }

    /** Reads the body off the container thread; answers once it is all in. */
    @PostMapping("/api/uploads/{id}")
    void upload(@PathVariable String id) {
        Handoff handoff = streams.handoff();
        String topic = "uploads/" + id;
        streams.body(MAX_UPLOAD).subscribe(new Flow.Subscriber<ByteBuffer>() {
            private Flow.Subscription subscription;
            private long received;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(ByteBuffer chunk) {
                long before = received;
                received += chunk.remaining();
                if (before / REPORT_EVERY != received / REPORT_EVERY) {
                    streams.publish(topic, "progress", new UploadProgress(id, received, false));
                }
                subscription.request(1);
            }

            @Override
            public void onError(Throwable failure) {
                streams.publish(topic, "failed", String.valueOf(failure.getMessage()));
                streams.registry().closeTopic(topic, CloseReason.COMPLETED, "upload failed");
            }

            @Override
            public void onComplete() {
                streams.publish(topic, "done", new UploadProgress(id, received, true));
                streams.registry().closeTopic(topic, CloseReason.COMPLETED, "upload done");
                ByteStream reply = handoff.respond(200).contentType("application/json").stream();
                reply.write("{\"upload\":\"" + id + "\",\"received\":" + received + "}");
                reply.close();
            }
        });
    }
}
