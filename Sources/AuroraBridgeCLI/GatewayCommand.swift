import ArgumentParser
import Bridge
import CLISupport
import Foundation
import Gateway
import Kafka
import Logging
import Records
import ServiceLifecycle

/// `aurora-bridge gateway`: the webhook ingress.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Receive Aurora webhooks, authenticate and validate them, and publish them to Kafka.",
        discussion: """
            Answers 200 {eventId} only after Kafka acknowledged the event (acks=all, idempotent); \
            503 with Retry-After when it could not within --publish-timeout-ms (Aurora retries); \
            4xx with {error, detail} for requests that are wrong (nothing is published). \
            Reload the tenants file with SIGHUP (or just edit it); SIGTERM drains and exits 0.

            Example:
              aurora-bridge gateway --brokers kafka:9092 \\
                --tenants /etc/aurora-bridge/tenants.yaml --port 8080
              curl -G http://localhost:8080/webhooks/aurora/acme-solar \\
                -d project_id=P -d agreement_id=A -d status=signed \\
                -H "X-Aurora-Webhook-Token: $TOKEN"
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var tenants: TenantsFileOption
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on for webhooks (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "Address of the admin port (/metrics, /readyz, /healthz): keep it off the load balancer.")
    var adminHost = "0.0.0.0"

    @Option(help: "Admin port: /metrics and /readyz, which name every tenant, are served here only (0: any free port, printed at start).")
    var adminPort = 8081

    @Option(help: "Topic webhooks are published to.")
    var topic = Topics.default.webhooks

    @Option(help: "Milliseconds to wait for Kafka's acknowledgement before answering 503 (Aurora waits 10 s).")
    var publishTimeoutMs = 5000

    @Option(help: "Header carrying the tenant token (Aurora's header_auth_key).")
    var tokenHeader = WebhookRequestHeader.token

    @Option(help: "Per-tenant ingress limit: requests per second (0: none).")
    var tenantRps = 50

    @Option(help: "Per-tenant ingress burst.")
    var tenantBurst = 200

    @Option(help: "Milliseconds a connection may stay open without sending a complete request (idle keep-alive, slowloris) before it is closed.")
    var idleTimeoutMs = 60_000

    @Option(help: "Connections open at once; beyond it new ones wait until one closes.")
    var maxConnections = 4096

    func validate() throws {
        guard (1...9000).contains(publishTimeoutMs) else {
            throw ValidationError("--publish-timeout-ms must be 1–9000: Aurora gives up after 10 s")
        }
        guard idleTimeoutMs >= 100 else { throw ValidationError("--idle-timeout-ms must be at least 100") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.gateway")
        let store: TenantsStore
        do {
            store = try TenantsStore(path: try tenants.resolvedPath(), logger: logger)
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
        let producer = try KafkaProducer(configuration: GatewayProducer.configuration(try kafka.configuration()),
                                         partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                         maxWaitingSends: GatewayProducer.maxWaitingPublishes, logger: Logger(label: "aurora-bridge.gateway.kafka"))

        var configuration = GatewayConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.adminHost = adminHost
        configuration.adminPort = adminPort
        configuration.topic = topic
        configuration.publishDeadline = .milliseconds(publishTimeoutMs)
        configuration.tokenHeader = tokenHeader
        configuration.tenantRequestsPerSecond = tenantRps
        configuration.tenantBurst = tenantBurst
        configuration.idleTimeout = .milliseconds(idleTimeoutMs)
        configuration.maxConnections = maxConnections
        let metrics = GatewayMetrics(exposition: PrometheusBackend.install(durationBuckets: GatewayMetrics.durationBuckets))
        let gateway = WebhookGateway(configuration: configuration, tenants: store,
                                     publisher: KafkaWebhookPublisher(producer: producer, topic: topic), metrics: metrics, logger: logger)
        let readiness = ReadinessCache { await producer.isReachable() }
        let host = self.host, adminHost = self.adminHost, topic = self.topic
        let app = gateway.makeApplication { port in
            printFlushed("gateway listening on http://\(host):\(port)")
            logger.info("gateway ready", metadata: ["port": "\(port)", "topic": "\(topic)", "tenants": "\(store.registry.slugs.count)"])
        }
        let admin = gateway.makeAdminApplication(ready: { await readiness.value() }) { port in
            printFlushed("gateway admin (metrics, readiness) on http://\(adminHost):\(port)")
        }
        // Services stop in reverse order: the HTTP server first (finishing in-flight requests),
        // then the producer (flushing what was sent).
        let group = ServiceGroup(
            services: [producer, TenantsReloader(store: store, logger: logger), admin, app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        logger.info("gateway stopped")
    }
}
