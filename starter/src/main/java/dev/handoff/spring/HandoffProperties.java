package dev.handoff.spring;

import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.StreamOptions;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;

/** Settings of Handoff's Spring Boot starter, under {@code handoff.*}. */
@ConfigurationProperties("handoff")
public class HandoffProperties {

    /** Send an SSE heartbeat comment after this long without a write; finds clients that left. 0 turns it off. */
    private Duration heartbeat = Duration.ofSeconds(15);

    /** Bytes written to a stream but not yet taken by the container; past it, the overflow policy applies. */
    private DataSize maxQueuedBytes = DataSize.ofKilobytes(64);

    /** What happens past the queue bound: DISCONNECT (the client reconnects and replays), DROP_OLDEST or FAIL_WRITE. */
    private OverflowPolicy overflow = OverflowPolicy.DISCONNECT;

    /** Close a stream as IDLE_TIMEOUT when the application sent nothing for this long (heartbeats do not count). 0 turns it off. */
    private Duration idleTimeout = Duration.ZERO;

    /** Close a stream as SLOW_CONSUMER when the container took no bytes for this long. 0 turns it off. */
    private Duration writeTimeout = Duration.ofSeconds(30);

    /** Longest Last-Event-ID header accepted, in characters; longer ones get 400. */
    private int maxLastEventIdLength = 256;

    /**
     * Cap on the kernel's send buffer of a stream's HTTP/1 connection, so that a client that stops reading is
     * seen within about twice this many bytes instead of megabytes. 0 leaves the system's. The proxy never caps.
     */
    private DataSize socketSendBuffer = DataSize.ofBytes(StreamOptions.DEFAULT_SOCKET_SEND_BUFFER);

    private final Scheduler scheduler = new Scheduler();
    private final Replay replay = new Replay();
    private final Limits limits = new Limits();
    private final Shutdown shutdown = new Shutdown();
    private final Filter filter = new Filter();
    private final Proxy proxy = new Proxy();
    private final Cluster cluster = new Cluster();
    private final Body body = new Body();

    /** The HTTP clients {@code StreamingProxy} can sit on. */
    public enum Client {
        /** Jetty's client when it is on the class path, else the JDK's. */
        AUTO,
        /** The JDK's {@code java.net.http.HttpClient}. */
        JDK,
        /** Jetty's {@code HttpClient}; needs {@code org.eclipse.jetty:jetty-client} 12. */
        JETTY
    }

    /** The streaming reverse proxy ({@code StreamingProxy} bean). */
    public static class Proxy {

        /**
         * The HTTP client under the proxy. AUTO: Jetty's when {@code org.eclipse.jetty:jetty-client} is on the
         * class path (faster for large bodies), else the JDK's.
         */
        private Client client = Client.AUTO;

        /** How long connecting to a backend may take; 504 after it. */
        private Duration connectTimeout = Duration.ofSeconds(5);

        /** How long a backend may take to start its response (status and headers); 504 after it. */
        private Duration responseTimeout = Duration.ofSeconds(30);

        /** How long a body may pause, either way, mid-stream. There is no total time-out. */
        private Duration idleTimeout = Duration.ofSeconds(60);

        /** Most proxied exchanges at once; more are refused with 503 and Retry-After. */
        private int maxConcurrent = 1000;

        /** Largest request body forwarded; larger ones get 413. */
        private DataSize maxRequestSize = DataSize.ofGigabytes(1);

        public Client getClient() {
            return client;
        }

        public void setClient(Client client) {
            this.client = client;
        }

        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public Duration getResponseTimeout() {
            return responseTimeout;
        }

        public void setResponseTimeout(Duration responseTimeout) {
            this.responseTimeout = responseTimeout;
        }

        public Duration getIdleTimeout() {
            return idleTimeout;
        }

        public void setIdleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        public int getMaxConcurrent() {
            return maxConcurrent;
        }

        public void setMaxConcurrent(int maxConcurrent) {
            this.maxConcurrent = maxConcurrent;
        }

        public DataSize getMaxRequestSize() {
            return maxRequestSize;
        }

        public void setMaxRequestSize(DataSize maxRequestSize) {
            this.maxRequestSize = maxRequestSize;
        }
    }

    /** Request bodies read through {@code HandoffStreams.body} or {@code Handoff.body}. */
    public static class Body {

        /**
         * Slowest request body accepted, in bytes per second of waiting for the client (408 below it, and the
         * connection is closed); finds uploads kept alive a byte at a time. 0 turns it off.
         */
        private DataSize minRate = DataSize.ofKilobytes(1);

        /** The span of waiting for the client over which the minimum rate is measured. */
        private Duration minRateWindow = Duration.ofSeconds(10);

        public DataSize getMinRate() {
            return minRate;
        }

        public void setMinRate(DataSize minRate) {
            this.minRate = minRate;
        }

        public Duration getMinRateWindow() {
            return minRateWindow;
        }

        public void setMinRateWindow(Duration minRateWindow) {
            this.minRateWindow = minRateWindow;
        }
    }

    /** The pool for fan-out, heartbeats and time-outs; its size does not grow with the number of streams. */
    public static class Scheduler {

        /** Threads in the pool (named handoff-scheduler-N-M). */
        private int threads = 2;

        /** How often timers are checked: the accuracy of heartbeats and time-outs. */
        private Duration tick = Duration.ofSeconds(1);

        public int getThreads() {
            return threads;
        }

        public void setThreads(int threads) {
            this.threads = threads;
        }

        public Duration getTick() {
            return tick;
        }

        public void setTick(Duration tick) {
            this.tick = tick;
        }
    }

    /** Last-Event-ID replay: what each topic keeps for clients that reconnect. */
    public static class Replay {

        /** Events each topic keeps; 0 turns replay off (reconnecting clients then get a "reset" event). */
        private int events = 256;

        /** Forget kept events older than this; 0 means no age limit. */
        private Duration maxAge = Duration.ofMinutes(5);

        public int getEvents() {
            return events;
        }

        public void setEvents(int events) {
            this.events = events;
        }

        public Duration getMaxAge() {
            return maxAge;
        }

        public void setMaxAge(Duration maxAge) {
            this.maxAge = maxAge;
        }
    }

    /** Stream limits of the registry; a request over one is refused before anything is committed. */
    public static class Limits {

        /** Most streams open at once (503 beyond); unset means no limit. */
        private Integer maxStreams;

        /** Most subscribers of one topic (503 beyond); unset means no limit. */
        private Integer maxStreamsPerTopic;

        /** Most streams per client, by remote address unless a StreamRegistryCustomizer sets a client key (429 beyond); unset means no limit. */
        private Integer maxStreamsPerClient;

        /** Retry-After sent with 429 and 503 refusals. */
        private Duration retryAfter = Duration.ofSeconds(5);

        public Integer getMaxStreams() {
            return maxStreams;
        }

        public void setMaxStreams(Integer maxStreams) {
            this.maxStreams = maxStreams;
        }

        public Integer getMaxStreamsPerTopic() {
            return maxStreamsPerTopic;
        }

        public void setMaxStreamsPerTopic(Integer maxStreamsPerTopic) {
            this.maxStreamsPerTopic = maxStreamsPerTopic;
        }

        public Integer getMaxStreamsPerClient() {
            return maxStreamsPerClient;
        }

        public void setMaxStreamsPerClient(Integer maxStreamsPerClient) {
            this.maxStreamsPerClient = maxStreamsPerClient;
        }

        public Duration getRetryAfter() {
            return retryAfter;
        }

        public void setRetryAfter(Duration retryAfter) {
            this.retryAfter = retryAfter;
        }
    }

    /** What happens to open streams when the application context closes. */
    public static class Shutdown {

        /** How long open streams may take to send what is queued before they are cut; shutdown never waits longer. */
        private Duration gracePeriod = Duration.ofSeconds(10);

        /** Reconnection delay advised to clients in a final "shutdown" event (its retry field); 0 sends no final event. */
        private Duration reconnectDelay = Duration.ofSeconds(5);

        /**
         * Up to this much is added to each stream's reconnection delay, at random, so that an instance's clients
         * come back spread over that time (between the delay and the delay plus this), not in the same second.
         */
        private Duration reconnectJitter = Duration.ofSeconds(5);

        public Duration getGracePeriod() {
            return gracePeriod;
        }

        public void setGracePeriod(Duration gracePeriod) {
            this.gracePeriod = gracePeriod;
        }

        public Duration getReconnectDelay() {
            return reconnectDelay;
        }

        public void setReconnectDelay(Duration reconnectDelay) {
            this.reconnectDelay = reconnectDelay;
        }

        public Duration getReconnectJitter() {
            return reconnectJitter;
        }

        public void setReconnectJitter(Duration reconnectJitter) {
            this.reconnectJitter = reconnectJitter;
        }
    }

    /** Registration of HandoffFilter. */
    public static class Filter {

        /** Order of the filter: late by default, so that Spring Security and other filters see the request first. */
        private int order = Ordered.LOWEST_PRECEDENCE - 10;

        /** URL patterns the filter is mapped to. */
        private String[] urlPatterns = {"/*"};

        public int getOrder() {
            return order;
        }

        public void setOrder(int order) {
            this.order = order;
        }

        public String[] getUrlPatterns() {
            return urlPatterns;
        }

        public void setUrlPatterns(String[] urlPatterns) {
            this.urlPatterns = urlPatterns;
        }
    }

    public Duration getHeartbeat() {
        return heartbeat;
    }

    public void setHeartbeat(Duration heartbeat) {
        this.heartbeat = heartbeat;
    }

    public DataSize getMaxQueuedBytes() {
        return maxQueuedBytes;
    }

    public void setMaxQueuedBytes(DataSize maxQueuedBytes) {
        this.maxQueuedBytes = maxQueuedBytes;
    }

    public OverflowPolicy getOverflow() {
        return overflow;
    }

    public void setOverflow(OverflowPolicy overflow) {
        this.overflow = overflow;
    }

    public Duration getIdleTimeout() {
        return idleTimeout;
    }

    public void setIdleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
    }

    public Duration getWriteTimeout() {
        return writeTimeout;
    }

    public void setWriteTimeout(Duration writeTimeout) {
        this.writeTimeout = writeTimeout;
    }

    public DataSize getSocketSendBuffer() {
        return socketSendBuffer;
    }

    public void setSocketSendBuffer(DataSize socketSendBuffer) {
        this.socketSendBuffer = socketSendBuffer;
    }

    public int getMaxLastEventIdLength() {
        return maxLastEventIdLength;
    }

    public void setMaxLastEventIdLength(int maxLastEventIdLength) {
        this.maxLastEventIdLength = maxLastEventIdLength;
    }

    public Scheduler getScheduler() {
        return scheduler;
    }

    public Replay getReplay() {
        return replay;
    }

    public Limits getLimits() {
        return limits;
    }

    public Shutdown getShutdown() {
        return shutdown;
    }

    public Filter getFilter() {
        return filter;
    }

    public Body getBody() {
        return body;
    }

    public Proxy getProxy() {
        return proxy;
    }

    public Cluster getCluster() {
        return cluster;
    }

    /**
     * Many instances sharing the registry's topics through Redis ({@code dev.handoff:handoff-redis} on the class
     * path). The Redis is Spring Boot's {@code spring.data.redis.*} (url, or host, port, username, password,
     * database, ssl.enabled) unless {@code redis-url} is given.
     */
    public static class Cluster {

        /** Share the registry's topics with the application's other instances. */
        private boolean enabled;

        /** The Redis to use instead of {@code spring.data.redis.*}, as {@code redis://host:port}. */
        private String redisUrl;

        /** The prefix of every Redis key the cluster uses (applications sharing one Redis need their own). */
        private String keyPrefix = "handoff:";

        /** About how many entries the bus keeps: an instance further behind than that resets its streams. */
        private long busLength = 10_000;

        /** How long Redis may take to answer; a publish not answered by then fails. */
        private Duration commandTimeout = Duration.ofSeconds(5);

        /**
         * Deliver a publish Redis refused (unreachable) to this instance's subscribers instead of failing it; the
         * topic is then reset on every instance once Redis is back.
         */
        private boolean deliverLocallyOnFailure;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getRedisUrl() {
            return redisUrl;
        }

        public void setRedisUrl(String redisUrl) {
            this.redisUrl = redisUrl;
        }

        public String getKeyPrefix() {
            return keyPrefix;
        }

        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        public long getBusLength() {
            return busLength;
        }

        public void setBusLength(long busLength) {
            this.busLength = busLength;
        }

        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        public boolean isDeliverLocallyOnFailure() {
            return deliverLocallyOnFailure;
        }

        public void setDeliverLocallyOnFailure(boolean deliverLocallyOnFailure) {
            this.deliverLocallyOnFailure = deliverLocallyOnFailure;
        }
    }
}
