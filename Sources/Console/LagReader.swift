import Kafka
import Logging

/// Reads another consumer group's committed offsets (the workers'), without joining it.
struct LagReader: Sendable {
    let configuration: KafkaConfiguration
    let logger: Logger

    /// The group's committed offset of each partition of `topics`; partitions without one are left out.
    func committed(group: String, topics: [String]) async -> [KafkaTopicPartition: Int64] {
        guard let counts = try? await KafkaTopicSetup.listTopics(configuration: configuration, timeout: .seconds(3), logger: logger) else { return [:] }
        let partitions = topics.flatMap { topic in (0..<Int32(counts[topic] ?? 0)).map { KafkaTopicPartition(topic: topic, partition: $0) } }
        guard !partitions.isEmpty else { return [:] }
        var configuration = self.configuration
        configuration.set("group.id", group)
        configuration.set("enable.auto.commit", "false")
        guard let consumer = try? KafkaConsumer(configuration: configuration, subscription: .partitions([]), bufferCapacity: 16, logger: logger) else {
            return [:]
        }
        let offsets = (try? await consumer.committed(partitions, timeout: .seconds(3))) ?? []
        await consumer.close()
        var result: [KafkaTopicPartition: Int64] = [:]
        for offset in offsets where offset.offset >= 0 { result[offset.topicPartition] = offset.offset }
        return result
    }
}
