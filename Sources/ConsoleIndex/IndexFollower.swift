import Foundation
import Kafka
import Logging
import Records
import ServiceLifecycle
import Synchronization

/// Follows the pipeline's topics into an ``IndexStore``: every partition from the offset the index
/// stored (the beginning for a new index), in batches of up to ``batchSize`` records per SQLite
/// transaction. It reads as consumer group `group` without joining it (a manual assignment), so
/// the index's own offsets decide where it resumes, and commits them to the group as well so
/// Kafka's tools show its lag. It never writes to a topic.
public final class IndexFollower: Service, Sendable {
    public let store: IndexStore
    public let topics: Topics
    public let group: String
    public let batchSize: Int
    /// How often the followed topics and their partitions are listed again.
    public let topologyCheck: Duration
    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var startEnds: [KafkaTopicPartition: Int64]?
        var caughtUp = false
        var indexed = 0
        var lastApplied: ContinuousClock.Instant?
        var stopping = false
    }

    public init(store: IndexStore, configuration: KafkaConfiguration, topics: Topics, group: String = "aurora-bridge-console",
                batchSize: Int = 2000, topologyCheck: Duration = .seconds(10), logger: Logger) {
        self.topologyCheck = topologyCheck
        self.store = store
        self.configuration = configuration
        self.topics = topics
        self.group = group
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Whether the index has read everything the topics held when it started (`/readyz`).
    public var caughtUp: Bool { state.withLock { $0.caughtUp } }
    /// Records indexed since start.
    public var indexed: Int { state.withLock { $0.indexed } }

    /// The followed topics that exist, with their partition counts: the webhooks, its retry tiers
    /// (any `<webhooks>.retry.N`), the dead letters, the outcomes and the replay ledger.
    public func followedTopics(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        try await KafkaTopicSetup.listTopics(configuration: configuration, timeout: timeout, logger: logger)
            .filter { TopicRole($0.key, topics: topics) != nil && $0.value > 0 }
    }

    /// Each followed partition's lag: records the index has not read yet. Kafka gets `timeout` to answer.
    public func lag(timeout: Duration = .seconds(3)) async throws -> [(partition: KafkaTopicPartition, next: Int64, end: Int64)] {
        let partitions = try await followedTopics(timeout: timeout).flatMap { topic, count in
            (0..<Int32(count)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        }
        let consumer = try KafkaConsumer(configuration: configuration, subscription: .partitions([]), bufferCapacity: 16, logger: logger)
        let ends: [KafkaTopicPartition: KafkaWatermarks]
        do {
            ends = try await consumer.watermarks(partitions, timeout: timeout)
            await consumer.close()
        } catch {
            await consumer.close()
            throw error
        }
        let stored = try store.offsets()
        return partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map { partition in
            let end = ends[partition]?.high ?? 0
            return (partition, max(stored[partition] ?? (ends[partition]?.low ?? 0), ends[partition]?.low ?? 0), end)
        }
    }

    public func run() async throws {
        // A topic made later (the replay ledger at the first replay, a new retry tier) or more
        // partitions: follow them too, from the offsets stored so far.
        while try await follow() {}
    }

    /// Follows the topics as they are now; true when they changed and must be followed anew.
    private func follow() async throws -> Bool {
        let followed = try await followedTopics()
        let stored = try store.offsets()
        let starts = followed.flatMap { topic, count in
            (0..<Int32(count)).map { partition in
                let at = KafkaTopicPartition(topic: topic, partition: partition)
                return KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: stored[at] ?? KafkaOffset.beginning)
            }
        }
        var configuration = self.configuration
        configuration.set("group.id", group)
        configuration.set("isolation.level", "read_committed")
        let consumer = try KafkaConsumer(configuration: configuration, subscription: .partitions(starts), bufferCapacity: 20_000, logger: logger)
        let ends = try await consumer.watermarks(starts.map(\.topicPartition)).mapValues(\.high)
        state.withLock { $0.startEnds = $0.startEnds ?? ends }
        logger.info("console index following", metadata: [
            "topics": "\(followed.keys.sorted().joined(separator: ","))", "group": "\(group)", "index": "\(store.path)",
            "behind": "\(ends.map { $0.value - (stored[$0.key] ?? 0) }.reduce(0, +))",
        ])
        updateCaughtUp()

        let pending = Mutex<[KafkaMessage]>([])
        let reader = Task {
            for await message in consumer.messages {
                pending.withLock { $0.append(message) }
                while pending.withLock({ $0.count }) >= batchSize * 4, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        let following = Set(starts.map(\.topicPartition))
        var checked = ContinuousClock.now
        var changed = false
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !state.withLock({ $0.stopping }) {
                if ContinuousClock.now - checked >= topologyCheck {
                    checked = .now
                    if let now = try? await followedTopics(timeout: .seconds(3)) {
                        let partitions = Set(now.flatMap { topic, count in (0..<Int32(count)).map { KafkaTopicPartition(topic: topic, partition: $0) } })
                        if partitions != following {
                            logger.info("the followed topics changed; following them anew", metadata: ["partitions": "\(partitions.count)"])
                            changed = true
                            break
                        }
                    }
                }
                let batch: [KafkaMessage] = pending.withLock { taken in
                    let count = min(batchSize, taken.count)
                    defer { taken.removeFirst(count) }
                    return Array(taken.prefix(count))
                }
                if batch.isEmpty {
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                }
                do {
                    try await store.apply(batch, topics: topics)
                    var last: [KafkaTopicPartition: KafkaMessage] = [:]
                    for message in batch { last[message.topicPartition] = message }
                    for message in last.values { try? consumer.storeOffset(message) }
                    state.withLock {
                        $0.indexed += batch.count
                        $0.lastApplied = .now
                    }
                    updateCaughtUp()
                } catch {
                    // The records stay unindexed and their offsets unstored: read again after a restart.
                    logger.error("could not index \(batch.count) record(s); retrying in 1 s", metadata: ["error": "\(error)"])
                    pending.withLock { $0.insert(contentsOf: batch, at: 0) }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.stopping = true }
            reader.cancel()
        }
        reader.cancel()
        await consumer.close()
        return changed && !Task.isCancelled && !state.withLock({ $0.stopping })
    }

    private func updateCaughtUp() {
        guard !caughtUp, let ends = state.withLock({ $0.startEnds }), let stored = try? store.offsets() else { return }
        if ends.allSatisfy({ $0.value <= (stored[$0.key] ?? 0) }) {
            state.withLock { $0.caughtUp = true }
            logger.info("console index caught up with the topics", metadata: ["indexed": "\(indexed)"])
        }
    }
}
