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
            --max-throttle-wait-ms) goes to the next retry tier, due after that tier's delay; a \
            permanent one (401, 403, 404, bad data) or the last tier's failure to the dead-letter \
            topic, with the headers that say why (see `aurora-bridge dlq`).

            /metrics, /healthz and /readyz are served on --metrics-port. SIGTERM drains running \
            events (at most --shutdown-drain-ms), commits, leaves the group and exits 0.

            Example:
              aurora-bridge worker --brokers kafka:9092 \\
                --tenants /etc/aurora-bridge/tenants.yaml --concurrency 256 \\
                --retry-delays 30s,5m,30m --metrics-port 9091
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var tenants: TenantsFileOption
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var executor: TaskExecutorOption

    @Option(help: "Consumer group shared by all workers.")
    var group = "aurora-bridge-worker"

    @Option(help: "Events processed at the same time in this process.")
    var concurrency = 256

    @Option(help: "Events read and not finished before the worker stops reading (at least --concurrency).")
    var maxOutstanding = 4096

    @Option(help: "Delay of each retry tier, comma-separated (ms, s, m, h, d), e.g. 30s,5m,30m. The count sets the tiers.")
    var retryDelays = "30s,5m,30m"

    @Option(help: "Longest wait for a tenant's API budget before the event goes to a retry tier instead (ms).")
    var maxThrottleWaitMs = 5000

    @Option(help: "Timeout of each Aurora or Coperniq request, answer body included (ms).")
    var apiTimeoutMs = 10_000

    @Option(help: "Longest Retry-After taken from Aurora or Coperniq (ms, s, m, h, d); a longer one is cut to it, one that is not a number of seconds or an HTTP-date is ignored.")
    var maxRetryAfter = "1h"

    @Option(help: "Topic the gateway publishes webhooks to; retry tiers are <topic>.retry.N.")
    var topic = Topics.default.webhooks

    @Option(help: "Dead-letter topic.")
    var dlqTopic = Topics.default.deadLetter

    @Option(help: "Topic of the outcome records (one per finished event).")
    var outcomesTopic = Topics.default.outcomes

    @Option(help: "On a revoke, how long to wait for the revoked partitions' running events (ms).")
    var revokeDrainMs = 20_000

    @Option(help: "On SIGTERM, how long running events may take to finish (ms).")
    var shutdownDrainMs = 30_000

    @Option(help: "Address of the /metrics, /healthz and /readyz server.")
    var metricsHost = "0.0.0.0"

    @Option(help: "Port of the /metrics server (0: any free port, printed at start).")
    var metricsPort = 9091

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard maxThrottleWaitMs >= 0, apiTimeoutMs >= 1, revokeDrainMs >= 0, shutdownDrainMs >= 0 else {
            throw ValidationError("timeouts and waits cannot be negative")
        }
        _ = try parseDurations(retryDelays, option: "--retry-delays")
        _ = try maxRetryAfterDuration()
    }

    func maxRetryAfterDuration() throws -> Duration {
        let parsed = try parseDurations(maxRetryAfter, option: "--max-retry-after")
        guard parsed.count == 1, let limit = parsed.first, limit > .zero else {
            throw ValidationError("--max-retry-after takes one duration above zero, e.g. 1h or 10m")
        }
        return limit
    }

    func workerConfiguration() throws -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.groupID = group
        configuration.concurrency = concurrency
        configuration.maxOutstanding = max(maxOutstanding, concurrency)
        configuration.retry = RetryPolicy(tierDelays: try parseDurations(retryDelays, option: "--retry-delays"))
        configuration.topics = Topics(webhooks: topic, deadLetter: dlqTopic, outcomes: outcomesTopic)
        configuration.revokeDrainTimeout = .milliseconds(revokeDrainMs)
        configuration.shutdownDrainTimeout = .milliseconds(shutdownDrainMs)
        return configuration
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.worker")
        let store: TenantsStore
        do {
            store = try TenantsStore(path: try tenants.resolvedPath(), logger: logger)
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
        let configuration = try workerConfiguration()
        let metrics = WorkerMetrics(exposition: PrometheusBackend.install(durationBuckets: WorkerMetrics.durationBuckets))
        let limiters = RateLimiters(maxWait: .milliseconds(maxThrottleWaitMs))
        let timeout = Duration.milliseconds(apiTimeoutMs)
        let maxRetryAfter = try maxRetryAfterDuration()
        let http = HTTPClient.forAPIs(connectionsPerHost: concurrency * 2)
        let processor = EventProcessor(
            tenant: { store[$0] },
            clients: { TenantClients.live(for: $0, limiters: limiters, http: http, timeout: timeout, maxRetryAfter: maxRetryAfter,
                                          observer: metrics) },
            logger: logger)
        let pool = try WorkerPool(configuration: configuration, kafka: try kafka.configuration(), processor: processor,
                                  metrics: metrics, isKnownTenant: { store[$0] != nil }, logger: logger)
        let host = metricsHost
        let ops = WorkerOpsServer(pool: pool, host: metricsHost, port: metricsPort) { port in
            printFlushed("worker metrics on http://\(host):\(port)/metrics")
        }
        // Services stop in reverse order: the ops server first, then the pool (drain, commit, leave).
        let group = ServiceGroup(
            services: [pool, TenantsReloader(store: store, logger: logger), ops.application],
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

