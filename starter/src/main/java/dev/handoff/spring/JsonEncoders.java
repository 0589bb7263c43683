package dev.handoff.spring;

import java.util.Map;
import java.util.function.Function;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;

/**
 * Finds the application's JSON mapper: Jackson 3's (Spring Boot 4's default) if it has one, else Jackson 2's.
 * Each Jackson generation lives in a class of its own, loaded only where that Jackson is present.
 */
final class JsonEncoders {

    private JsonEncoders() {
    }

    static EventDataEncoder fromContext(ListableBeanFactory beans, ClassLoader loader) {
        if (ClassUtils.isPresent("tools.jackson.databind.ObjectMapper", loader)) {
            EventDataEncoder jackson3 = Jackson3.from(beans);
            if (jackson3 != null) {
                return jackson3;
            }
        }
        if (ClassUtils.isPresent("com.fasterxml.jackson.databind.ObjectMapper", loader)) {
            EventDataEncoder jackson2 = Jackson2.from(beans);
            if (jackson2 != null) {
                return jackson2;
            }
        }
        return data -> {
            throw new IllegalArgumentException("cannot send a " + data.getClass().getName() + " as event data: no "
                    + "Jackson ObjectMapper bean in the application; send a String, or declare an EventDataEncoder bean");
        };
    }

    /** The application's JSON mapper as a decoder of JSON objects, or null if it has none. */
    static Function<String, Map<String, ?>> decoderFromContext(ListableBeanFactory beans, ClassLoader loader) {
        if (ClassUtils.isPresent("tools.jackson.databind.ObjectMapper", loader)) {
            Function<String, Map<String, ?>> jackson3 = Jackson3.decoder(beans);
            if (jackson3 != null) {
                return jackson3;
            }
        }
        if (ClassUtils.isPresent("com.fasterxml.jackson.databind.ObjectMapper", loader)) {
            return Jackson2.decoder(beans);
        }
        return null;
    }

    static final class Jackson3 {
        private Jackson3() {
        }

        @SuppressWarnings("unchecked")
        static Function<String, Map<String, ?>> decoder(ListableBeanFactory beans) {
            tools.jackson.databind.ObjectMapper mapper = beans.getBeanProvider(tools.jackson.databind.ObjectMapper.class)
                    .getIfUnique();
            return mapper == null ? null : json -> mapper.readValue(json, Map.class);
        }

        static EventDataEncoder from(ListableBeanFactory beans) {
            tools.jackson.databind.ObjectMapper mapper = beans.getBeanProvider(tools.jackson.databind.ObjectMapper.class)
                    .getIfUnique();
            if (mapper == null) {
                return null;
            }
            return data -> {
                try {
                    return mapper.writeValueAsString(data);
                } catch (tools.jackson.core.JacksonException e) {
                    throw new IllegalArgumentException("cannot encode a " + data.getClass().getName() + " as JSON: "
                            + e.getOriginalMessage(), e);
                }
            };
        }
    }

    static final class Jackson2 {
        private Jackson2() {
        }

        @SuppressWarnings("unchecked")
        static Function<String, Map<String, ?>> decoder(ListableBeanFactory beans) {
            com.fasterxml.jackson.databind.ObjectMapper mapper = beans
                    .getBeanProvider(com.fasterxml.jackson.databind.ObjectMapper.class).getIfUnique();
            if (mapper == null) {
                return null;
            }
            return json -> {
                try {
                    return mapper.readValue(json, Map.class);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
                }
            };
        }

        static EventDataEncoder from(ListableBeanFactory beans) {
            com.fasterxml.jackson.databind.ObjectMapper mapper = beans
                    .getBeanProvider(com.fasterxml.jackson.databind.ObjectMapper.class).getIfUnique();
            if (mapper == null) {
                return null;
            }
            return data -> {
                try {
                    return mapper.writeValueAsString(data);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException("cannot encode a " + data.getClass().getName() + " as JSON: "
                            + e.getOriginalMessage(), e);
                }
            };
        }
    }
}
