import Bridge
import Foundation
import HTTPAPI
import Metrics

/// The worker's metrics, through swift-metrics: whichever backend the process bootstrapped
/// (`aurora-bridge worker` installs Prometheus, served at `/metrics` on the worker's ops port), or
/// the factory given. The names are the dashboard's and the alerts' (`ops/grafana`, `ops/prometheus`).
public final class WorkerMetrics: APICallObserver, Sendable {
    private let factory: any MetricsFactory
    /// The text `/metrics` serves, for a backend that is scraped; nil when the backend pushes.
    public let exposition: (@Sendable () -> String)?
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

    /// The buckets of the worker's timers by metric label, for a backend that keeps histograms.
    public static let durationBuckets: [String: [Duration]] = [
        "worker_attempt_duration_seconds": latencyBuckets, "worker_event_latency_seconds": latencyBuckets,
        "worker_api_call_duration_seconds": callBuckets, "worker_limiter_wait_seconds": callBuckets,
    ]

    public init(factory: any MetricsFactory = MetricsSystem.factory, exposition: (@Sendable () -> String)? = nil) {
        self.factory = factory
        self.exposition = exposition
        running = Gauge(label: "worker_events_running", factory: factory)
        outstanding = Gauge(label: "worker_events_outstanding", factory: factory)
        parked = Gauge(label: "worker_retry_partitions_waiting", factory: factory)
    }

    /// An event's outcome became durable. `tenant` must be a known slug or `unknown`.
    public func event(tenant: String, disposition: EventDisposition, errorClass: ErrorClass?, latencyFromReceipt: Duration?, attempt: Duration) {
        let outcome = disposition.label
        Counter(label: "worker_events_total", dimensions: [("tenant", tenant), ("outcome", outcome), ("error_class", errorClass?.description ?? "none")],
                factory: factory).increment()
        Timer(label: "worker_attempt_duration_seconds", dimensions: [("outcome", outcome)], factory: factory).record(duration: attempt)
        if let latencyFromReceipt, latencyFromReceipt >= .zero {
            Timer(label: "worker_event_latency_seconds", dimensions: [("outcome", outcome)], factory: factory).record(duration: latencyFromReceipt)
        }
    }

    /// The API calls one attempt made, by `"<service> <operation>"` (``HTTPAPI/CallTally``): over
    /// `worker_events_total`, the calls an event costs each API's budget.
    public func attemptCalls(_ calls: [String: Int]) {
        for (endpoint, count) in calls {
            let parts = endpoint.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, count > 0 else { continue }
            Counter(label: "worker_event_api_calls_total", dimensions: [("service", String(parts[0])), ("operation", String(parts[1]))],
                    factory: factory).increment(by: count)
        }
    }

    /// The steps of a finished event that failed for good (a project without its signed PDF, say).
    public func stepWarnings(tenant: String, _ steps: [StepReport]) {
        for step in steps where step.result == .warning {
            Counter(label: "worker_step_warnings_total", dimensions: [("tenant", tenant), ("step", step.step.rawValue)], factory: factory)
                .increment()
        }
    }

    /// A record could not be written to `topic` and will be tried again.
    public func publishRetried(topic: String) {
        Counter(label: "worker_publish_retries_total", dimensions: [("topic", topic)], factory: factory).increment()
    }

    /// Whether the worker is stalled because it cannot write to Kafka (``PublishHealth``).
    public func publishStalled(_ stalled: Bool) {
        Gauge(label: "worker_publish_stalled", factory: factory).record(stalled ? 1 : 0)
    }

    /// A retry tier record came due and went back to the webhooks topic to be attempted.
    public func retryDue() {
        Counter(label: "worker_retries_due_total", factory: factory).increment()
    }

    /// Events a revoke cancelled because they outlived the drain (the next owner runs them again).
    public func cancelledOnRevoke(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "worker_events_cancelled_on_revoke_total", factory: factory).increment(by: count)
    }

    public func called(service: String, operation: String, status: Int?, duration: Duration) {
        let statusClass = status.map { "\($0 / 100)xx" } ?? "none"
        Timer(label: "worker_api_call_duration_seconds", dimensions: [("service", service), ("operation", operation), ("status", statusClass)],
              factory: factory).record(duration: duration)
    }

    public func throttled(service: String, waited: Duration) {
        guard waited > .milliseconds(1) else { return }
        Timer(label: "worker_limiter_wait_seconds", dimensions: [("service", service)], factory: factory).record(duration: waited)
    }

    /// Events running and outstanding (see ``WorkerConfiguration/maxOutstanding``).
    public func load(running: Int, outstanding: Int, parkedPartitions: Int) {
        self.running.record(running)
        self.outstanding.record(outstanding)
        parked.record(parkedPartitions)
    }

    /// Consumer lag per partition, from librdkafka's statistics.
    public func lag(_ lags: [ConsumerLag]) {
        for lag in lags {
            Gauge(label: "worker_consumer_lag", dimensions: [("topic", lag.topic), ("partition", String(lag.partition))], factory: factory)
                .record(lag.lag)
        }
    }
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
        guard let topics = (try? JSONParser.parse(Array(json.utf8)))?["topics"]?.objectValue else { return [] }
        var lags: [ConsumerLag] = []
        for (topic, value) in topics {
            guard let partitions = value["partitions"]?.objectValue else { continue }
            for (key, fields) in partitions {
                guard let partition = Int32(key), partition >= 0, let lag = fields["consumer_lag"]?.intValue.map(Int64.init), lag >= 0 else { continue }
                if fields["fetch_state"]?.stringValue == "none" { continue }
                lags.append(ConsumerLag(topic: topic, partition: partition, lag: lag))
            }
        }
        return lags.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
