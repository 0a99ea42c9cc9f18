import Foundation
import Kafka
import Logging
import Testing
import TestSupport

/// Client settings that make group rebalances quick on the embedded cluster.
func fastConfiguration(_ cluster: EmbeddedKafka) -> KafkaConfiguration {
    KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: [
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "300",
        "topic.metadata.refresh.interval.ms": "1000",
    ])
}

/// A fresh embedded cluster with one new topic.
func clusterWithTopic(brokers: Int, partitions: Int32, replicationFactor: Int32 = 1) throws -> (EmbeddedKafka, String) {
    let cluster = try EmbeddedKafka(brokers: brokers, logger: testLogger)
    let topic = uniqueTopic()
    try cluster.createTopic(topic, partitions: partitions, replicationFactor: replicationFactor)
    return (cluster, topic)
}

func makeProducer(_ cluster: EmbeddedKafka, _ extra: [String: String] = [:]) throws -> KafkaProducer {
    var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
    for (key, value) in extra { configuration.set(key, value) }
    return try KafkaProducer(configuration: configuration, logger: testLogger)
}

func makeConsumer(_ cluster: EmbeddedKafka, group: String, topics: [String], bufferCapacity: Int = 10_000,
                  extra: [String: String] = [:],
                  rebalance: (@Sendable (KafkaRebalanceEvent) async -> Void)? = nil) throws -> KafkaConsumer {
    var configuration = fastConfiguration(cluster)
    for (key, value) in extra { configuration.set(key, value) }
    return try KafkaConsumer(configuration: configuration, subscription: .group(id: group, topics: topics),
                             bufferCapacity: bufferCapacity, rebalanceHandler: rebalance, logger: testLogger)
}

/// Produces `count` records with keys `key-<i % keys>` and values `value-<i>`.
@discardableResult
func produce(_ producer: KafkaProducer, topic: String, count: Int, keys: Int = 10, from start: Int = 0)
    async throws -> [KafkaDeliveryReport] {
    try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
        for index in start..<(start + count) {
            group.addTask {
                try await producer.send(topic: topic, key: "key-\(index % keys)", value: Array("value-\(index)".utf8))
            }
        }
        var reports: [KafkaDeliveryReport] = []
        for try await report in group { reports.append(report) }
        return reports
    }
}

