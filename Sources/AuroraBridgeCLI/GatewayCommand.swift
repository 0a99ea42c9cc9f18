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
            503 with Retry-After when it could not within --publish-timeout (Aurora retries); \
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

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Address to listen on (default 0.0.0.0).")
    var host: String?

    @Option(help: "Port to listen on for webhooks (default 8080; 0: any free port, printed at start).")
    var port: Int?

    @Option(help: "Address of the admin port (/metrics, /readyz, /healthz): keep it off the load balancer (default 0.0.0.0).")
    var adminHost: String?

    @Option(help: "Admin port: /metrics and /readyz, which name every tenant, are served here only (default 8081; 0: any free port).")
    var adminPort: Int?

    @Option(help: "Topic webhooks are published to (default \(Topics.default.webhooks)).")
    var topic: String?

    @Option(help: "How long to wait for Kafka's acknowledgement before answering 503, at most 9s: Aurora waits 10 s (default 5s).")
    var publishTimeout: String?

    @Option(help: .hidden)
    var publishTimeoutMs: Int?

    @Option(help: "Header carrying the tenant token (Aurora's header_auth_key; default \(WebhookRequestHeader.token)).")
    var tokenHeader: String?

    @Option(help: "Per-tenant ingress limit: requests per second (default 50; 0: none).")
    var tenantRps: Int?

    @Option(help: "Per-tenant ingress burst (default 200).")
    var tenantBurst: Int?

    @Option(help: "How long a connection may stay open without sending a complete request (idle keep-alive, slowloris) before it is closed (default 60s).")
    var idleTimeout: String?

    @Option(help: .hidden)
    var idleTimeoutMs: Int?

    @Option(help: "Connections open at once; beyond it new ones wait until one closes (default 4096).")
    var maxConnections: Int?

    /// The settings this command's flags give (``GatewayConfiguration/init(settings:)`` reads them).
    func flagSettings() throws -> FlagSettings {
        var flags = FlagSettings()
        flags.set("gateway.host", flag: "--host", host)
        flags.set("gateway.port", flag: "--port", port)
        flags.set("gateway.adminHost", flag: "--admin-host", adminHost)
        flags.set("gateway.adminPort", flag: "--admin-port", adminPort)
        flags.set("topics.webhooks", flag: "--topic", topic)
        try flags.set("gateway.publishTimeout", flag: "--publish-timeout", duration: publishTimeout, milliseconds: publishTimeoutMs)
        flags.set("gateway.tokenHeader", flag: "--token-header", tokenHeader)
        flags.set("gateway.tenantRps", flag: "--tenant-rps", tenantRps)
        flags.set("gateway.tenantBurst", flag: "--tenant-burst", tenantBurst)
        try flags.set("gateway.idleTimeout", flag: "--idle-timeout", duration: idleTimeout, milliseconds: idleTimeoutMs)
        flags.set("gateway.maxConnections", flag: "--max-connections", maxConnections)
        return flags
    }

    func run() async throws {
        let (settings, exporter) = try await runtime.start(try flagSettings(), serviceName: "aurora-bridge-gateway")
        let configuration = try GatewayConfiguration(settings: settings)
        let logger = Logger(label: "aurora-bridge.gateway")
        let store: TenantsStore
        do {
            store = try TenantsStore(path: try TenantsFileOption.path(settings), logger: logger)
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
        let producer = try KafkaProducer(configuration: GatewayProducer.configuration(try KafkaOptions.configuration(settings)),
                                         partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                         maxWaitingSends: GatewayProducer.maxWaitingPublishes, logger: Logger(label: "aurora-bridge.gateway.kafka"))

        let metrics = GatewayMetrics(exposition: PrometheusBackend.install(durationBuckets: GatewayMetrics.durationBuckets))
        let gateway = WebhookGateway(configuration: configuration, tenants: store,
                                     publisher: KafkaWebhookPublisher(producer: producer, topic: configuration.topic), metrics: metrics,
                                     logger: logger)
        let readiness = ReadinessCache { await producer.isReachable() }
        let host = configuration.host, adminHost = configuration.adminHost, topic = configuration.topic
        let app = gateway.makeApplication { port in
            printFlushed("gateway listening on http://\(host):\(port)")
            logger.info("gateway ready", metadata: ["port": "\(port)", "topic": "\(topic)", "tenants": "\(store.registry.slugs.count)"])
        }
        let admin = gateway.makeAdminApplication(ready: { await readiness.value() }) { port in
            printFlushed("gateway admin (metrics, readiness) on http://\(adminHost):\(port)")
        }
        // Services stop in reverse order: the HTTP server first (finishing in-flight requests),
        // then the producer (flushing what was sent), then the span exporter.
        let group = ServiceGroup(
            services: [exporter].compactMap { $0 } + [producer, TenantsReloader(store: store, logger: logger), admin, app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        logger.info("gateway stopped")
    }
}
