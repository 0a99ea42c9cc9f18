import Bridge
import Foundation
import Kafka
import Logging
import Sandbox
import Testing
import TestSupport
@testable import Worker

/// An embedded Kafka cluster with the worker's topics, and helpers to publish envelopes and to
/// read what the workers wrote.
final class WorkerCluster: Sendable {
    let kafka: EmbeddedKafka
    let topics: WorkerTopics
    let tiers: Int
    let producer: KafkaProducer

    init(partitions: Int32 = 12, tiers: Int = 2) throws {
        kafka = try EmbeddedKafka(brokers: 1, logger: testLogger)
        topics = WorkerTopics()
        self.tiers = tiers
        for topic in [topics.webhooks, topics.deadLetter, topics.outcomes] + topics.retryTiers(tiers) {
            try kafka.createTopic(topic, partitions: partitions)
        }
        producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: kafka.bootstrapServers), logger: testLogger)
    }

    /// Settings that make group rebalances quick on the embedded cluster.
    var configuration: KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: kafka.bootstrapServers, properties: [
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "300", "topic.metadata.refresh.interval.ms": "1000",
        ])
    }

    func workerConfiguration(concurrency: Int = 64, delays: [Duration] = [.milliseconds(500), .seconds(1)]) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.groupID = "workers-\(UUID().uuidString.prefix(6))"
        configuration.concurrency = concurrency
        configuration.retry = RetryPolicy(tierDelays: delays)
        configuration.storeInterval = .milliseconds(50)
        return configuration
    }

    /// Publishes envelopes as the gateway does (key, headers), in order.
    func publish(_ envelopes: [WebhookEnvelope]) async throws {
        let records = try envelopes.map { envelope in
            KafkaRecord(topic: topics.webhooks, key: Array(envelope.kafkaKey.utf8), value: Array(try envelope.encoded()),
                        headers: [KafkaHeader("event-id", envelope.id), KafkaHeader("tenant", envelope.tenant),
                                  KafkaHeader("traceparent", TraceParent.continuing(nil).description)])
        }
        for result in await producer.send(records) { _ = try result.get() }
    }

    /// Every record of `topic` from the beginning, read outside any group, until `until` holds for
    /// what was read (or `limit` passes).
    func read(_ topic: String, limit: Duration = .seconds(60),
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
    func snapshot(_ topic: String) async throws -> [KafkaMessage] {
        try await snapshotTopic(topic, configuration: configuration)
    }

    func shutdown() async {
        await producer.shutdown()
        kafka.shutdown()
    }
}

/// A worker pool running in this process until stopped.
final class RunningPool: Sendable {
    let pool: WorkerPool
    private let task: Task<Void, any Error>

    init(_ pool: WorkerPool) {
        self.pool = pool
        task = Task { try await pool.run() }
    }

    func stop() async throws {
        pool.stop()
        try await withTimeout(.seconds(60), "worker pool stop") { [task] in try await task.value }
    }
}

/// The outcome record of each event id, and the dead letters, as the ledger of a run.
struct Ledger {
    var outcomes: [String: [OutcomeRecord]] = [:]
    var deadLetters: [String: [KafkaMessage]] = [:]

    init(outcomes: [KafkaMessage], deadLetters: [KafkaMessage]) throws {
        for message in outcomes {
            let record = try OutcomeRecord.decode(message.value)
            self.outcomes[record.eventID, default: []].append(record)
        }
        for message in deadLetters {
            self.deadLetters[message.headers.text("event-id") ?? "?", default: []].append(message)
        }
    }

    var settledIDs: Set<String> { Set(outcomes.keys).union(deadLetters.keys) }
}

/// Processes with a fixed delay; the outcome is chosen per envelope by `decide` (default: created).
struct ScriptedProcessor: EventProcessing {
    let delay: Duration
    let calls: Recorder<String>
    let decide: @Sendable (WebhookEnvelope, Int) -> EventOutcome

    init(delay: Duration = .zero, calls: Recorder<String> = Recorder(),
         decide: @escaping @Sendable (WebhookEnvelope, Int) -> EventOutcome = { envelope, _ in
             .created(ProjectLink(tenant: envelope.tenant, auroraProjectID: envelope.projectID ?? "-", coperniqProjectID: 1, title: "t"))
         }) {
        self.delay = delay
        self.calls = calls
        self.decide = decide
    }

    func process(_ envelope: WebhookEnvelope) async -> EventOutcome {
        calls.append(envelope.id)
        let attempt = calls.values.filter { $0 == envelope.id }.count
        if delay > .zero { try? await Task.sleep(for: delay) }
        return decide(envelope, attempt)
    }
}

func envelope(tenant: String = "acme", project: String, agreement: String? = nil, status: String = "signed",
              id: String = UUID().uuidString, receivedAt: Date = Date()) -> WebhookEnvelope {
    WebhookEnvelope(id: id, tenant: tenant,
                    params: ["project_id": project, "agreement_id": agreement ?? "a-\(project)", "status": status],
                    receivedAt: receivedAt)
}

/// Everything on `topic` now: reads every partition from the beginning (outside any group)
/// up to its high watermark at the start of the read.
func snapshotTopic(_ topic: String, configuration: KafkaConfiguration, limit: Duration = .seconds(30)) async throws -> [KafkaMessage] {
    let partitions = Int32(try await KafkaTopicSetup.listTopics(configuration: configuration, logger: testLogger)[topic] ?? 0)
    let consumer = try KafkaConsumer(
        configuration: configuration,
        subscription: .partitions((0..<partitions).map { KafkaTopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.beginning) }),
        logger: testLogger)
    do {
        let ends = try await consumer.watermarks((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) })
        let nonEmpty = Set(ends.filter { $0.value.high > $0.value.low }.keys)
        var messages: [KafkaMessage] = []
        if !nonEmpty.isEmpty {
            messages = try await withTimeout(limit, "reading \(topic) to its end") {
                var remaining = nonEmpty
                var messages: [KafkaMessage] = []
                for await message in consumer.messages {
                    messages.append(message)
                    if message.offset + 1 >= ends[message.topicPartition]!.high { remaining.remove(message.topicPartition) }
                    if remaining.isEmpty { break }
                }
                return messages
            }
        }
        await consumer.close()
        return messages
    } catch {
        await consumer.close()
        throw error
    }
}
