package dev.handoff.spring;

import dev.handoff.spring.test.SseRecorders;
import dev.handoff.test.SseRecorder;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * With {@code dev.handoff:handoff-test} on the class path (an application's tests), an {@link SseRecorders} bean:
 * SSE recorders bound to the application's own running server, decoding JSON with its mapper. Nothing without it.
 */
@AutoConfiguration
@ConditionalOnClass(SseRecorder.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
public class HandoffTestAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SseRecorders handoffSseRecorders(Environment environment, ListableBeanFactory beans) {
        return new SseRecorders(environment, JsonEncoders.decoderFromContext(beans, getClass().getClassLoader()));
    }
}
