import Bridge
import Prometheus

/// The gateway's Prometheus metrics, on its own registry (served at `/metrics`).
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let counters = SynchronizedDictionary<RequestLabels, Counter>()
    private let publishLatency: DurationHistogram
    private let inFlight: Gauge
    private let queueDepth: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        publishLatency = registry.makeDurationHistogram(
            descriptor: .init(metricName: "gateway_publish_duration", unitName: "seconds",
                              helpText: "Time from a valid webhook to Kafka's acknowledgement"),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .seconds(2.5), .seconds(5)])
        inFlight = registry.makeGauge(descriptor: .init(metricName: "gateway_requests_in_flight", unitName: "",
                                                        helpText: "Webhook requests being handled"))
        queueDepth = registry.makeGauge(descriptor: .init(metricName: "gateway_producer_queue_depth", unitName: "",
                                                          helpText: "Records waiting in the Kafka producer"))
    }

    /// Counts a finished request. `tenant` is the slug for known tenants, `unknown` otherwise, so a
    /// caller cannot blow up the label set.
    public func request(tenant: String, outcome: String) {
        counters.value(for: RequestLabels(tenant: tenant, outcome: outcome)) {
            registry.makeCounter(descriptor: .init(metricName: "gateway_requests", unitName: "total",
                                                   helpText: "Webhook requests by tenant and outcome"),
                                 labels: [("tenant", tenant), ("outcome", outcome)])
        }.increment()
    }

    public func published(after duration: Duration) { publishLatency.record(duration) }
    public func inFlight(_ delta: Int) { delta > 0 ? inFlight.increment(by: Double(delta)) : inFlight.decrement(by: Double(-delta)) }
    /// Sets the producer queue depth gauge (sampled when `/metrics` is scraped).
    public func producerQueue(_ depth: Int) { queueDepth.set(Double(depth)) }

    /// The text exposition format.
    public func render() -> String { registry.emitToString() }
}

/// The labels of one request counter.
private struct RequestLabels: Hashable, Sendable {
    let tenant: String
    let outcome: String
}
