package dev.handoff.test;

import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.core.support.TomcatTestServer;

/** The kit on embedded Tomcat 11. */
class SseRecorderOnTomcatTest extends SseRecorderContract {

    @Override
    TestServer start(TestApp app) throws Exception {
        return TomcatTestServer.start(app);
    }
}
