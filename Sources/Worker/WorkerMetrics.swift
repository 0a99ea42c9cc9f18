import Bridge
import Foundation
import HTTPAPI
import Prometheus

/// The worker's Prometheus metrics, on its own registry (served at `/metrics` on the worker port).
public final class WorkerMetrics: APICallObserver, Sendable {
    public let registry: PrometheusCollectorRegistry
    private let counters = SynchronizedDictionary<String, Counter>()
    private let histograms = SynchronizedDictionary<String, DurationHistogram>()
    private let gauges = SynchronizedDictionary<String, Gauge>()
    private let running: Gauge
    private let outstanding: Gauge
    private let parked: Gauge

    private static let latencyBuckets: [Duration] = [
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1800), .seconds(7200),
    ]
    private static let callBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        running = registry.makeGauge(descriptor: .init(metricName: "worker_events_running", unitName: "",
                                                       helpText: "Events being processed now"))
        outstanding = registry.makeGauge(descriptor: .init(metricName: "worker_events_outstanding", unitName: "",
                                                           helpText: "Events read and not finished (running or waiting behind their key)"))
        parked = registry.makeGauge(descriptor: .init(metricName: "worker_retry_partitions_waiting", unitName: "",
                                                      helpText: "Retry tier partitions paused until their next record is due"))
    }

    /// An event's outcome became durable. `tenant` must be a known slug or `unknown`.
    public func event(tenant: String, disposition: EventDisposition, errorClass: String?, latencyFromReceipt: Duration?, attempt: Duration) {
        let outcome = disposition.label, errorClass = errorClass ?? "none"
        counters.value(for: "events|\(tenant)|\(outcome)|\(errorClass)") {
            registry.makeCounter(descriptor: .init(metricName: "worker_events", unitName: "total",
                                                   helpText: "Events by tenant, outcome and error class"),
                                 labels: [("tenant", tenant), ("outcome", outcome), ("error_class", errorClass)])
        }.increment()
        histogram("attempt|\(outcome)", name: "worker_attempt_duration", help: "Processing time of one attempt, by outcome",
                  labels: [("outcome", outcome)], buckets: Self.latencyBuckets).record(attempt)
        if let latencyFromReceipt, latencyFromReceipt >= .zero {
            histogram("e2e|\(outcome)", name: "worker_event_latency",
                      help: "From the gateway's receipt of the webhook to the event's durable outcome",
                      labels: [("outcome", outcome)], buckets: Self.latencyBuckets).record(latencyFromReceipt)
        }
    }

    /// A record could not be written to `topic` and will be tried again.
    public func publishRetried(topic: String) {
        counters.value(for: "publish|\(topic)") {
            registry.makeCounter(descriptor: .init(metricName: "worker_publish_retries", unitName: "total",
                                                   helpText: "Outcome, retry and dead-letter records Kafka refused and the worker retried"),
                                 labels: [("topic", topic)])
        }.increment()
    }

    /// Whether the worker is stalled because it cannot write to Kafka (``PublishHealth``).
    public func publishStalled(_ stalled: Bool) {
        gauges.value(for: "publish-stalled") {
            registry.makeGauge(descriptor: .init(metricName: "worker_publish_stalled", unitName: "",
                                                 helpText: "1 while the worker takes no records because Kafka refuses its writes"),
                               labels: [])
        }.set(Int64(stalled ? 1 : 0))
    }

    /// A retry tier record came due and went back to the webhooks topic to be attempted.
    public func retryDue() {
        counters.value(for: "retry-due") {
            registry.makeCounter(descriptor: .init(metricName: "worker_retries_due", unitName: "total",
                                                   helpText: "Retry tier records that came due and went back to the webhooks topic"),
                                 labels: [])
        }.increment()
    }

    /// Events a revoke cancelled because they outlived the drain (the next owner runs them again).
    public func cancelledOnRevoke(_ count: Int) {
        guard count > 0 else { return }
        counters.value(for: "cancelled-on-revoke") {
            registry.makeCounter(descriptor: .init(metricName: "worker_events_cancelled_on_revoke", unitName: "total",
                                                   helpText: "Events cancelled because their partition was revoked before they finished"),
                                 labels: [])
        }.increment(by: Int64(count))
    }

    public func called(service: String, operation: String, status: Int?, duration: Duration) {
        let statusClass = status.map { "\($0 / 100)xx" } ?? "none"
        histogram("call|\(service)|\(operation)|\(statusClass)", name: "worker_api_call_duration",
                  help: "Aurora and Coperniq API calls by service, operation and status class",
                  labels: [("service", service), ("operation", operation), ("status", statusClass)],
                  buckets: Self.callBuckets).record(duration)
    }

    public func throttled(service: String, waited: Duration) {
        guard waited > .milliseconds(1) else { return }
        histogram("wait|\(service)", name: "worker_limiter_wait", help: "Time calls waited for their key's rate limiter",
                  labels: [("service", service)], buckets: Self.callBuckets).record(waited)
    }

    /// Events running and outstanding (see ``WorkerConfiguration/maxOutstanding``).
    public func load(running: Int, outstanding: Int, parkedPartitions: Int) {
        self.running.set(Double(running))
        self.outstanding.set(Double(outstanding))
        parked.set(Double(parkedPartitions))
    }

    /// Consumer lag per partition, from librdkafka's statistics.
    public func lag(_ lags: [ConsumerLag]) {
        for lag in lags {
            gauges.value(for: "lag|\(lag.topic)|\(lag.partition)") {
                registry.makeGauge(descriptor: .init(metricName: "worker_consumer_lag", unitName: "",
                                                     helpText: "Records behind the end of each assigned partition"),
                                   labels: [("topic", lag.topic), ("partition", String(lag.partition))])
            }.set(Double(lag.lag))
        }
    }

    private func histogram(_ key: String, name: String, help: String, labels: [(String, String)],
                           buckets: [Duration]) -> DurationHistogram {
        histograms.value(for: key) {
            registry.makeDurationHistogram(descriptor: .init(metricName: name, unitName: "seconds", helpText: help),
                                           labels: labels, buckets: buckets)
        }
    }

    /// The text exposition format.
    public func render() -> String { registry.emitToString() }
}

/// One partition's consumer lag.
public struct ConsumerLag: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var lag: Int64

    public init(topic: String, partition: Int32, lag: Int64) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
    }

    /// The lags in a librdkafka statistics JSON document (`topics.*.partitions.*.consumer_lag`),
    /// for partitions this consumer fetches; unknown lags (-1) and the internal partition -1 are left out.
    public static func parse(statistics json: String) -> [ConsumerLag] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let topics = object["topics"] as? [String: Any] else { return [] }
        var lags: [ConsumerLag] = []
        for (topic, value) in topics {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (key, value) in partitions {
                guard let partition = Int32(key), partition >= 0, let fields = value as? [String: Any],
                      let lag = (fields["consumer_lag"] as? NSNumber)?.int64Value, lag >= 0 else { continue }
                if let state = fields["fetch_state"] as? String, state == "none" { continue }
                lags.append(ConsumerLag(topic: topic, partition: partition, lag: lag))
            }
        }
        return lags.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
