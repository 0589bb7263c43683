package dev.handoff.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The proxy's header rules, without a container: hop-by-hop hygiene both ways and the checks on hooks' headers. */
class ProxyHeadersTest {

    @Test
    void hopByHopHeadersAndTheOnesConnectionNamesAreRemovedWhateverTheirCase() {
        ProxyHeaders h = new ProxyHeaders();
        h.add("Connection", "keep-alive, X-Secret");
        h.add("connection", " X-Other ");
        h.add("X-Secret", "s");
        h.add("x-other", "o");
        h.add("Keep-Alive", "timeout=5");
        h.add("Transfer-Encoding", "chunked");
        h.add("TE", "trailers");
        h.add("Trailer", "X-Checksum");
        h.add("Upgrade", "h2c");
        h.add("Proxy-Authorization", "Basic x");
        h.add("Proxy-Custom", "p");
        h.add("Content-Type", "text/plain");
        h.add("Set-Cookie", "a=1");
        h.add("Set-Cookie", "b=2");
        h.removeHopByHop();
        List<String> left = new ArrayList<>();
        h.forEach((name, value) -> left.add(name + ": " + value));
        assertThat(left).containsExactly("Content-Type: text/plain", "Set-Cookie: a=1", "Set-Cookie: b=2");
    }

    @Test
    void namesAreCaseInsensitiveAndSetReplacesEveryValue() {
        ProxyHeaders h = new ProxyHeaders();
        h.add("X-A", "1");
        h.add("x-a", "2");
        assertThat(h.all("X-A")).containsExactly("1", "2");
        assertThat(h.first("x-A")).isEqualTo("1");
        h.set("X-a", "3");
        assertThat(h.all("x-a")).containsExactly("3");
        assertThat(h.remove("X-A")).isTrue();
        assertThat(h.contains("x-a")).isFalse();
        assertThat(h.first("x-a")).isNull();
    }

    @Test
    void aValueThatWouldSplitTheHeaderOrANameThatIsNotATokenIsRefusedSayingWhy() {
        ProxyHeaders h = new ProxyHeaders();
        for (String bad : new String[] {"a\r\nX-Injected: 1", "a\nb", "a\0b"}) {
            assertThatThrownBy(() -> h.set("X-Hook", bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("header X-Hook").hasMessageContaining("would split the header");
        }
        assertThatThrownBy(() -> h.add("Bad Name", "v")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("U+0020 at index 3").hasMessageContaining("HTTP token");
        assertThatThrownBy(() -> h.add("", "v")).hasMessageContaining("must not be empty");
        assertThatThrownBy(() -> h.add("X-Null", null)).hasMessageContaining("must not be null");
        assertThat(h.contains("X-Hook")).as("nothing was added").isFalse();
    }
}
