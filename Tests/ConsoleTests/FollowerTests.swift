import ConsoleIndex
import Foundation
import Kafka
import Logging
import Records
import TestSupport
import Testing

@Suite("Console index from the embedded cluster", .serialized)
struct FollowerTests {
    @Test("followed from the topics, rebuilt from scratch and resumed after a stop, the index is the one its records make")
    func followRebuildResume() async throws {
        let cluster = try EmbeddedKafka(brokers: 1, logger: testLogger)
        defer { cluster.shutdown() }
        let topics = Topics.default
        for topic in topics.all(tiers: 2) { try cluster.createTopic(topic, partitions: 2) }
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        func publish(_ records: [KafkaMessage]) async throws {
            for record in records {
                _ = try await producer.send(topic: record.topic, partition: record.partition, key: record.key, value: record.value,
                                            headers: record.headers)
            }
        }
        /// What the topics hold now, applied straight to a fresh index.
        func expected() async throws -> [String] {
            let direct = try temporaryIndex()
            for topic in topics.all(tiers: 2) {
                try await direct.apply(try await KafkaTopicReader.readAll(topic, configuration: configuration, logger: testLogger), topics: topics)
            }
            return try direct.dump()
        }
        func follow(_ store: IndexStore) async throws {
            let follower = IndexFollower(store: store, configuration: configuration, topics: topics, group: "console-test", batchSize: 3,
                                         logger: testLogger)
            let task = Task { try await follower.run() }
            try await eventually(.seconds(30), "the index catches up") { follower.caughtUp }
            task.cancel()
            try await task.value
        }

        let records = history()
        try await publish(Array(records.prefix(7)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).sqlite").path
        try await follow(try IndexStore(path: path, rebuild: true))
        #expect(try IndexStore(path: path).dump() == (try await expected()))

        // Resumed after a stop: only the new records are read, none counts twice.
        try await publish(Array(records.dropFirst(7)))
        try await follow(try IndexStore(path: path))
        let all = try await expected()
        #expect(try IndexStore(path: path).dump() == all)
        #expect(try IndexStore(path: path).event("e-dead")?.state == "created")

        // Rebuilt from scratch (the file deleted), the same index.
        try await follow(try IndexStore(path: path, rebuild: true))
        #expect(try IndexStore(path: path).dump() == all)
        await producer.shutdown()
    }

    @Test("a topic made after the console started (the replay ledger at the first replay) is followed too")
    func topicMadeLater() async throws {
        let cluster = try EmbeddedKafka(brokers: 1, logger: testLogger)
        defer { cluster.shutdown() }
        let topics = Topics.default
        for topic in [topics.webhooks, topics.retryTier(1), topics.deadLetter, topics.outcomes] { try cluster.createTopic(topic, partitions: 1) }
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        let records = history()
        for record in records.prefix(4) {
            _ = try await producer.send(topic: record.topic, key: record.key, value: record.value, headers: record.headers)
        }
        let store = try temporaryIndex()
        let follower = IndexFollower(store: store, configuration: configuration, topics: topics, group: "console-test",
                                     topologyCheck: .milliseconds(300), logger: testLogger)
        let task = Task { try await follower.run() }
        try await eventually(.seconds(30), "the index catches up") { follower.caughtUp }
        #expect(try store.timeline("e-dead").map(\.kind).contains(.deadLetter))

        try cluster.createTopic(topics.replayLedger, partitions: 1)
        let ledger = records[7]
        _ = try await producer.send(topic: ledger.topic, key: ledger.key, value: ledger.value, headers: ledger.headers)
        try await eventually(.seconds(30), "the ledger's entry is indexed") { (try? store.timeline("e-dead").map(\.kind).contains(.replayed)) == true }
        task.cancel()
        try await task.value
        await producer.shutdown()
    }
}
