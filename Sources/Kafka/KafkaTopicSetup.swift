import Logging

/// Creates topics: through the Admin API (CreateTopics) on real Kafka, through the mock API on an
/// ``EmbeddedKafka``. Topics that already exist count as created.
public enum KafkaTopicSetup {
    /// Creates `topics` on an in-process embedded cluster.
    public static func create(_ topics: [KafkaTopicSpec], on cluster: EmbeddedKafka) throws {
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor)
        }
    }

    /// Creates `topics` on a real cluster with the Admin API and waits for the result.
    public static func create(_ topics: [KafkaTopicSpec], configuration: KafkaConfiguration,
                              timeout: Duration = .seconds(30),
                              logger: Logger = Logger(label: "kafka.admin")) async throws {
        guard !topics.isEmpty else { return }
        let client = try RDKafkaClient(.producer, configuration: configuration, context: ClientContext(logger: logger))
        try await Blocking.run {
            defer { client.destroy() }
            try client.createTopics(topics, timeout: timeout)
        }
    }

    /// The topics the cluster knows, with their partition counts (a metadata request).
    public static func listTopics(configuration: KafkaConfiguration, timeout: Duration = .seconds(10),
                                  logger: Logger = Logger(label: "kafka.admin")) async throws -> [String: Int] {
        let client = try RDKafkaClient(.producer, configuration: configuration, context: ClientContext(logger: logger))
        return try await Blocking.run {
            defer { client.destroy() }
            return try client.topicPartitionCounts(timeout: timeout)
        }
    }
}
