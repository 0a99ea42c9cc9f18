import Bridge
import Foundation
import Kafka
import Logging
import Prometheus
import Records
import Worker

/// An embedded Kafka cluster with the worker's topics, and helpers to publish envelopes and to
/// read what the workers wrote.
public final class WorkerCluster: Sendable {
    public let kafka: EmbeddedKafka
    public let topics: Topics
    public let tiers: Int
    public let producer: KafkaProducer

    public init(partitions: Int32 = 12, tiers: Int = 2, extraTopics: [String] = []) throws {
        kafka = try EmbeddedKafka(brokers: 1, logger: testLogger)
        topics = Topics.default
        self.tiers = tiers
        for topic in [topics.webhooks, topics.deadLetter, topics.outcomes] + topics.retryTiers(tiers) + extraTopics {
            try kafka.createTopic(topic, partitions: partitions)
        }
        producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: kafka.bootstrapServers),
                                 partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator), logger: testLogger)
    }

    /// Settings that make group rebalances quick on the embedded cluster.
    public var configuration: KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: kafka.bootstrapServers, properties: [
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "300", "topic.metadata.refresh.interval.ms": "1000",
        ])
    }

    public func workerConfiguration(concurrency: Int = 64, delays: [Duration] = [.milliseconds(500), .seconds(1)]) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.groupID = "workers-\(UUID().uuidString.prefix(6))"
        configuration.concurrency = concurrency
        configuration.retry = RetryPolicy(tierDelays: delays)
        configuration.storeInterval = .milliseconds(50)
        return configuration
    }

    /// Publishes envelopes as the gateway does (key, headers), in order.
    public func publish(_ envelopes: [WebhookEnvelope]) async throws {
        let records = try envelopes.map { envelope in
            KafkaRecord(topic: topics.webhooks, key: Array(envelope.kafkaKey.utf8), value: Array(try envelope.encoded()),
                        headers: [KafkaHeader("event-id", envelope.id), KafkaHeader("tenant", envelope.tenant),
                                  KafkaHeader("traceparent", TraceParent.continuing(nil).description)])
        }
        for result in await producer.send(records) { _ = try result.get() }
    }

    /// Every record of `topic` from the beginning, read outside any group, until `until` holds for
    /// what was read (or `limit` passes).
    public func read(_ topic: String, limit: Duration = .seconds(60),
              until done: @escaping @Sendable ([KafkaMessage]) -> Bool) async throws -> [KafkaMessage] {
        let partitions = Int32(try await KafkaTopicSetup.listTopics(configuration: configuration, logger: testLogger)[topic] ?? 0)
        let consumer = try KafkaConsumer(
            configuration: configuration,
            subscription: .partitions((0..<partitions).map { KafkaTopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.beginning) }),
            logger: testLogger)
        defer { Task { await consumer.close() } }
        return try await withTimeout(limit, "records on \(topic)") {
            var messages: [KafkaMessage] = []
            if done(messages) { return messages }
            for await message in consumer.messages {
                messages.append(message)
                if done(messages) { break }
            }
            return messages
        }
    }

    /// Everything on `topic` now.
    public func snapshot(_ topic: String) async throws -> [KafkaMessage] {
        try await snapshotTopic(topic, configuration: configuration)
    }

    public func shutdown() async {
        await producer.shutdown()
        kafka.shutdown()
    }
}

/// A worker pool running in this process until stopped.
public final class RunningPool: Sendable {
    public let pool: WorkerPool
    private let task: Task<Void, any Error>

    public init(_ pool: WorkerPool) {
        self.pool = pool
        task = Task { try await pool.run() }
    }

    public func stop() async throws {
        pool.stop()
        try await withTimeout(.seconds(60), "worker pool stop") { [task] in try await task.value }
    }
}

/// Everything on `topic` now.
public func snapshotTopic(_ topic: String, configuration: KafkaConfiguration) async throws -> [KafkaMessage] {
    try await KafkaTopicReader.readAll(topic, configuration: configuration, timeout: .seconds(30), logger: testLogger)
}

extension WorkerMetrics {
    /// Metrics on a Prometheus registry of their own (the process's global backend is not
    /// bootstrapped in tests), read back through ``WorkerMetrics/exposition``.
    public static func onOwnRegistry() -> WorkerMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = WorkerMetrics.durationBuckets
        return WorkerMetrics(factory: factory, exposition: { registry.emitToString() })
    }

    /// The Prometheus text of metrics made by ``onOwnRegistry()``.
    public var text: String { exposition?() ?? "" }
}

extension WebhookEnvelope {
    /// `JSONEncoder` configured for the envelope's shape: the reference the hand-written record
    /// value (`Records`) is compared with.
    public static let referenceEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// `JSONDecoder` configured for the envelope's shape: what the hand-written reader must agree with.
    public static let referenceDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = RecordTimestamp.parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "receivedAt '\(text)' is not ISO 8601")
        }
        return decoder
    }()
}
