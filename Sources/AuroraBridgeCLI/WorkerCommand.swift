import ArgumentParser
import AsyncHTTPClient
import Bridge
import CLISupport
import Foundation
import HTTPAPI
import Kafka
import Logging
import Records
import ServiceLifecycle
import Worker

/// `aurora-bridge worker`: a member of the worker pool (scale by running more of them).
struct WorkerCommand: AsyncParsableCommand, ChoosesTaskExecutor {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Turn webhook events from Kafka into Coperniq projects: key-ordered, concurrent, with retry tiers and a dead-letter topic.",
        discussion: """
            Every worker started with the same --group shares the partitions of aurora.webhooks and \
            of the retry tiers aurora.webhooks.retry.1…N: run more processes to go faster. Events \
            of one Aurora project run one at a time, in order; up to --concurrency events run at \
            once. An offset is committed only after the event's outcome is on Kafka: the project \
            record on coperniq.projects, or the event on a retry tier or aurora.webhooks.dlq.

            A retryable failure (5xx, 429, timeout, a tenant over its request budget for more than \
            --max-throttle-wait) goes to the next retry tier, due after that tier's delay; a \
            permanent one (401, 403, 404, bad data) or the last tier's failure to the dead-letter \
            topic, with the headers that say why (see `aurora-bridge dlq`).

            /metrics, /healthz and /readyz are served on --metrics-port. SIGTERM drains running \
            events (at most --shutdown-drain), commits, leaves the group and exits 0.

            Example:
              aurora-bridge worker --brokers kafka:9092 \\
                --tenants /etc/aurora-bridge/tenants.yaml --concurrency 256 \\
                --retry-delays 30s,5m,30m --metrics-port 9091
            """
    )

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var executor: TaskExecutorOption

    @Option(help: "Consumer group shared by all workers (default aurora-bridge-worker).")
    var group: String?

    @Option(help: "Events processed at the same time in this process (default 256).")
    var concurrency: Int?

    @Option(help: "Events read and not finished before the worker stops reading (default 4096, at least --concurrency).")
    var maxOutstanding: Int?

    @Option(help: "Delay of each retry tier, comma-separated, e.g. 30s,5m,30m (the default). The count sets the tiers.")
    var retryDelays: String?

    @Option(help: "Longest wait for a tenant's API budget before the event goes to a retry tier instead (default 5s).")
    var maxThrottleWait: String?

    @Option(help: .hidden)
    var maxThrottleWaitMs: Int?

    @Option(help: "Timeout of each Aurora or Coperniq request, answer body included (default 10s).")
    var apiTimeout: String?

    @Option(help: .hidden)
    var apiTimeoutMs: Int?

    @Option(help: "Longest Retry-After taken from Aurora or Coperniq (default 1h); a longer one is cut to it, one that is not a number of seconds or an HTTP-date is ignored.")
    var maxRetryAfter: String?

    @Option(help: "Topic the gateway publishes webhooks to; retry tiers are <topic>.retry.N (default \(Topics.default.webhooks)).")
    var topic: String?

    @Option(help: "Dead-letter topic (default \(Topics.default.deadLetter)).")
    var dlqTopic: String?

    @Option(help: "Topic of the outcome records, one per finished event (default \(Topics.default.outcomes)).")
    var outcomesTopic: String?

    @Option(help: "On a revoke, how long to wait for the revoked partitions' running events (default 20s).")
    var revokeDrain: String?

    @Option(help: .hidden)
    var revokeDrainMs: Int?

    @Option(help: "On SIGTERM, how long running events may take to finish (default 30s).")
    var shutdownDrain: String?

    @Option(help: .hidden)
    var shutdownDrainMs: Int?

    @Option(help: "Address of the /metrics, /healthz and /readyz server (default 0.0.0.0).")
    var metricsHost: String?

    @Option(help: "Port of the /metrics server (default 9091; 0: any free port, printed at start).")
    var metricsPort: Int?

    /// The settings this command's flags give (``WorkerRuntimeConfiguration/init(settings:)`` reads them).
    func flagSettings() throws -> FlagSettings {
        var flags = FlagSettings()
        flags.set("worker.group", flag: "--group", group)
        flags.set("worker.concurrency", flag: "--concurrency", concurrency)
        flags.set("worker.maxOutstanding", flag: "--max-outstanding", maxOutstanding)
        flags.set("worker.retryDelays", flag: "--retry-delays", retryDelays)
        try flags.set("worker.maxThrottleWait", flag: "--max-throttle-wait", duration: maxThrottleWait, milliseconds: maxThrottleWaitMs)
        try flags.set("worker.apiTimeout", flag: "--api-timeout", duration: apiTimeout, milliseconds: apiTimeoutMs)
        flags.set("worker.maxRetryAfter", flag: "--max-retry-after", maxRetryAfter)
        flags.set("topics.webhooks", flag: "--topic", topic)
        flags.set("topics.deadLetter", flag: "--dlq-topic", dlqTopic)
        flags.set("topics.outcomes", flag: "--outcomes-topic", outcomesTopic)
        try flags.set("worker.revokeDrain", flag: "--revoke-drain", duration: revokeDrain, milliseconds: revokeDrainMs)
        try flags.set("worker.shutdownDrain", flag: "--shutdown-drain", duration: shutdownDrain, milliseconds: shutdownDrainMs)
        flags.set("worker.metricsHost", flag: "--metrics-host", metricsHost)
        flags.set("worker.metricsPort", flag: "--metrics-port", metricsPort)
        return flags
    }

    func run() async throws {
        let (settings, exporter) = try await runtime.start(try flagSettings(), serviceName: "aurora-bridge-worker")
        let runtime = try WorkerRuntimeConfiguration(settings: settings)
        let logger = Logger(label: "aurora-bridge.worker")
        let store: TenantsStore
        do {
            store = try TenantsStore(path: try TenantsFileOption.path(settings), logger: logger)
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
        let configuration = runtime.pool
        let metrics = WorkerMetrics(exposition: PrometheusBackend.install(durationBuckets: WorkerMetrics.durationBuckets))
        let limiters = RateLimiters(maxWait: runtime.maxThrottleWait)
        let timeout = runtime.apiTimeout, maxRetryAfter = runtime.maxRetryAfter
        let http = HTTPClient.forAPIs(connectionsPerHost: configuration.concurrency * 2)
        let processor = EventProcessor(
            tenant: { store[$0] },
            clients: { TenantClients.live(for: $0, limiters: limiters, http: http, timeout: timeout, maxRetryAfter: maxRetryAfter,
                                          observer: metrics) },
            logger: logger)
        let pool = try WorkerPool(configuration: configuration, kafka: try KafkaOptions.configuration(settings), processor: processor,
                                  metrics: metrics, isKnownTenant: { store[$0] != nil }, logger: logger)
        let host = runtime.opsHost
        let ops = WorkerOpsServer(pool: pool, host: runtime.opsHost, port: runtime.opsPort) { port in
            printFlushed("worker metrics on http://\(host):\(port)/metrics")
        }
        // Services stop in reverse order: the ops server first, then the pool (drain, commit, leave),
        // then the span exporter.
        let group = ServiceGroup(
            services: [exporter].compactMap { $0 } + [pool, TenantsReloader(store: store, logger: logger), ops.application],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        do {
            try await group.run()
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}

