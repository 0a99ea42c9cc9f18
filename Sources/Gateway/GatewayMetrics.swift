import Metrics

/// The gateway's metrics, through swift-metrics: whichever backend the process bootstrapped
/// (`aurora-bridge gateway` installs Prometheus, served at `/metrics` on the admin port), or the
/// factory given. HTTP figures per route come from Hummingbird's `MetricsMiddleware`.
public final class GatewayMetrics: Sendable {
    private let factory: any MetricsFactory
    /// The text `/metrics` serves, for a backend that is scraped; nil when the backend pushes.
    public let exposition: (@Sendable () -> String)?
    private let publishLatency: Timer
    private let inFlight: Meter
    private let queueDepth: Gauge

    /// The buckets of the gateway's timers by metric label, for a backend that keeps histograms.
    public static let durationBuckets: [String: [Duration]] = [
        "gateway_publish_duration_seconds": [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ],
    ]

    public init(factory: any MetricsFactory = MetricsSystem.factory, exposition: (@Sendable () -> String)? = nil) {
        self.factory = factory
        self.exposition = exposition
        publishLatency = Timer(label: "gateway_publish_duration_seconds", factory: factory)
        inFlight = Meter(label: "gateway_requests_in_flight", factory: factory)
        queueDepth = Gauge(label: "gateway_producer_queue_depth", factory: factory)
    }

    /// Counts a finished request. `tenant` is the slug for known tenants, `unknown` otherwise, so a
    /// caller cannot blow up the label set.
    public func request(tenant: String, outcome: String) {
        Counter(label: "gateway_requests_total", dimensions: [("tenant", tenant), ("outcome", outcome)], factory: factory).increment()
    }

    /// The time from a valid webhook to Kafka's acknowledgement.
    public func published(after duration: Duration) { publishLatency.record(duration: duration) }
    /// Webhook requests being handled.
    public func inFlight(_ delta: Int) { delta > 0 ? inFlight.increment(by: Double(delta)) : inFlight.decrement(by: Double(-delta)) }
    /// Sets the producer queue depth gauge (sampled when `/metrics` is scraped).
    public func producerQueue(_ depth: Int) { queueDepth.record(depth) }
}
