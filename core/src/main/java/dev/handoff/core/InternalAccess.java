package dev.handoff.core;

import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.DefaultSseStream;
import dev.handoff.core.internal.Timed;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.function.Consumer;

/** This package's side of {@link ApiAccess}: each method forwards to a package-private member. */
final class InternalAccess implements ApiAccess.Api {

    @Override
    public HttpServletRequest request(Handoff handoff) {
        return handoff.request();
    }

    @Override
    public HttpServletResponse response(Handoff handoff) {
        return handoff.response();
    }

    @Override
    public void beginAsync(Handoff handoff) {
        handoff.beginAsync();
    }

    @Override
    public void completeWithoutBody(Handoff handoff) {
        handoff.completeWithoutBody();
    }

    @Override
    public DefaultSseStream openSse(Handoff handoff, SseStream unattached, Consumer<DefaultSseStream> beforeCommit) {
        if (unattached != null && !(unattached instanceof DefaultSseStream)) {
            throw new IllegalArgumentException("not a stream made by Handoff.unattachedSse(...): " + unattached);
        }
        return handoff.sse((DefaultSseStream) unattached, beforeCommit);
    }

    @Override
    public ResponseHead contentLength(ResponseHead head, long length) {
        return head.contentLength(length);
    }

    @Override
    public byte[] frame(SseEvent event) {
        return event.encoded();
    }

    @Override
    public void register(StreamScheduler scheduler, Timed timed) {
        scheduler.register(timed);
    }

    @Override
    public void unregister(StreamScheduler scheduler, Timed timed) {
        scheduler.unregister(timed);
    }
}
