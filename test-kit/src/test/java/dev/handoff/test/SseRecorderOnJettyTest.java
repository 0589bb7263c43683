package dev.handoff.test;

import dev.handoff.core.support.JettyTestServer;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;

/** The kit on embedded Jetty 12. */
class SseRecorderOnJettyTest extends SseRecorderContract {

    @Override
    TestServer start(TestApp app) throws Exception {
        return JettyTestServer.start(app);
    }
}
