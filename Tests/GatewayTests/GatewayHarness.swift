import Bridge
import CLISupport
import Foundation
import Gateway
import Kafka
import Logging
import Prometheus
import Records
import ServiceLifecycle
import TestSupport

enum Tenants {
    static func token(_ slug: String) -> String { "tok-\(slug)-0123456789" }
    static func auroraKey(_ slug: String) -> String { "sk_prod_\(slug)_SECRET" }
    static func coperniqKey(_ slug: String) -> String { "cq_\(slug)_SECRET" }

    static func environment(_ slugs: [String]) -> [String: String] {
        var environment: [String: String] = [:]
        for slug in slugs {
            environment[envName(slug, "AURORA")] = auroraKey(slug)
            environment[envName(slug, "COPERNIQ")] = coperniqKey(slug)
        }
        return environment
    }

    static func envName(_ slug: String, _ service: String) -> String {
        "\(slug.uppercased().replacingOccurrences(of: "-", with: "_"))_\(service)"
    }

    static func yaml(_ slugs: [String]) -> String {
        "tenants:\n" + slugs.map { slug in
            """
              - slug: \(slug)
                webhookTokenSHA256: \(sha256Hex(token(slug)))
                aurora: { tenantID: tid-\(slug), apiKey: { env: \(envName(slug, "AURORA")) } }
                coperniq: { apiKey: { env: \(envName(slug, "COPERNIQ")) } }

            """
        }.joined()
    }

    static func registry(_ slugs: [String]) throws -> TenantsRegistry {
        try TenantsRegistry.parse(yaml(slugs), environment: environment(slugs))
    }
}

/// An in-process gateway on a free port, publishing to an embedded cluster.
final class GatewayHarness: Sendable {
    let cluster: EmbeddedKafka
    let topic: String
    let producer: KafkaProducer
    let gateway: WebhookGateway
    let port: Int
    /// The admin address's port (`/metrics`, `/readyz`).
    let adminPort: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    static func start(tenants slugs: [String] = ["acme-solar", "sunrise-energy"],
                      configure: (inout GatewayConfiguration) -> Void = { _ in }) async throws -> GatewayHarness {
        let cluster = try EmbeddedKafka(brokers: 1, logger: testLogger)
        let topic = uniqueTopic("webhooks")
        try cluster.createTopic(topic, partitions: 4)
        var producerConfiguration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        producerConfiguration.set("message.timeout.ms", "30000")
        let producer = try KafkaProducer(configuration: producerConfiguration, partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                         logger: testLogger)
        var configuration = GatewayConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.adminHost = "127.0.0.1"
        configuration.adminPort = 0
        configuration.topic = topic
        configure(&configuration)
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: PrometheusBackend.factory(registry: registry, durationBuckets: GatewayMetrics.durationBuckets),
                                     exposition: { registry.emitToString() })
        let gateway = WebhookGateway(configuration: configuration, tenants: TenantsStore(try Tenants.registry(slugs)),
                                     publisher: KafkaWebhookPublisher(producer: producer, topic: topic), metrics: metrics, logger: testLogger)
        let port = LockedBox<Int?>(nil), adminPort = LockedBox<Int?>(nil)
        let app = gateway.makeApplication { bound in port.withLock { $0 = bound } }
        let admin = gateway.makeAdminApplication(ready: { await producer.isReachable() }) { bound in adminPort.withLock { $0 = bound } }
        let group = ServiceGroup(services: [producer, admin, app], gracefulShutdownSignals: [], logger: testLogger)
        let running = Task { try await group.run() }
        try await eventually(.seconds(10), "gateway listening") { port.withLock { $0 } != nil && adminPort.withLock { $0 } != nil }
        return GatewayHarness(cluster: cluster, topic: topic, producer: producer, gateway: gateway,
                              port: port.withLock { $0 }!, adminPort: adminPort.withLock { $0 }!, group: group, running: running)
    }

    private init(cluster: EmbeddedKafka, topic: String, producer: KafkaProducer, gateway: WebhookGateway, port: Int, adminPort: Int,
                 group: ServiceGroup, running: Task<Void, any Error>) {
        self.adminPort = adminPort
        self.cluster = cluster
        self.topic = topic
        self.producer = producer
        self.gateway = gateway
        self.port = port
        self.group = group
        self.running = running
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
    }

    /// A webhook URL target for `tenant` with `query` (already encoded).
    static func target(_ tenant: String, _ query: String) -> String { "/webhooks/aurora/\(tenant)?\(query)" }

    /// Reads the topic from the beginning until every event id in `wanted` arrived, then keeps
    /// reading for `settle` (partitions are not ordered among themselves, so a stray record may
    /// come after the wanted ones).
    func records(containing wanted: Set<String>, settle: Duration = .seconds(1), limit: Duration = .seconds(30)) async throws -> [KafkaMessage] {
        try await Self.records(bootstrap: cluster.bootstrapServers, topic: topic, containing: wanted, settle: settle, limit: limit)
    }

    static func records(bootstrap: String, topic: String, containing wanted: Set<String>, settle: Duration = .seconds(1),
                        limit: Duration = .seconds(30)) async throws -> [KafkaMessage] {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrap)
        configuration.set("heartbeat.interval.ms", "300")
        let consumer = try KafkaConsumer(configuration: configuration, subscription: .group(id: uniqueTopic("reader"), topics: [topic]),
                                         logger: testLogger)
        let records = LockedBox<[KafkaMessage]>([])
        let reading = Task {
            for await message in consumer.messages { records.withLock { $0.append(message) } }
        }
        defer { reading.cancel() }
        try await eventually(limit, "records \(wanted)") {
            let seen = Set(records.withLock { $0 }.compactMap { $0.headers.text("event-id") })
            return wanted.isSubset(of: seen)
        }
        try await Task.sleep(for: settle)
        reading.cancel()
        await consumer.close()
        return records.withLock { $0 }
    }
}

func eventID(_ answer: RawHTTP.Answer) -> String? {
    (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String])?["eventId"]
}

func errorCode(_ answer: RawHTTP.Answer) -> String? {
    (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String])?["error"]
}
