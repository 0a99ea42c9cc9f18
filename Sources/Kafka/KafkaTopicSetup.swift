import CRdKafka
import Logging

/// A topic to create: name, partitions, replication and topic-level configs (e.g. `min.insync.replicas`).
public struct KafkaTopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }

    /// Parses `name` or `name:partitions` or `name:partitions:replication` (the CLI's form).
    public init?(parsing text: String, defaultPartitions: Int32, defaultReplication: Int32) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), !parts[0].isEmpty else { return nil }
        let partitions = parts.count > 1 ? Int32(parts[1]) : defaultPartitions
        let replication = parts.count > 2 ? Int32(parts[2]) : defaultReplication
        guard let partitions, let replication, partitions > 0, replication > 0 else { return nil }
        self.init(name: parts[0], partitions: partitions, replicationFactor: replication)
    }
}

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
        let client = try NativeClient(kind: RD_KAFKA_PRODUCER, configuration: configuration,
                                      context: ClientContext(logger: logger, statisticsHandler: nil))
        try await Blocking.run {
            defer { client.destroy() }
            try createBlocking(topics, client: client, timeout: timeout)
        }
    }

    private static func createBlocking(_ topics: [KafkaTopicSpec], client: NativeClient, timeout: Duration) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in topics {
            guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor, &errstr, errstr.count) else {
                let text = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .invalidConfiguration, message: "topic \(spec.name): \(text)")
            }
            newTopics.append(topic)
            for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                try KafkaError.check(rd_kafka_NewTopic_set_config(topic, key, value), "topic \(spec.name) config \(key)")
            }
        }
        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errstr, errstr.count)

        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 5000) else {
            throw KafkaError(code: .timedOut, message: "CreateTopics got no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        try KafkaError.check(rd_kafka_event_error(event), "CreateTopics")
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .state, message: "CreateTopics returned an unexpected event")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicResult = results[index]
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
            throw KafkaError(code: KafkaError.Code(err), message: "create topic \(name): \(text)")
        }
    }

    /// The topics the cluster knows, with their partition counts (a metadata request).
    public static func listTopics(configuration: KafkaConfiguration, timeout: Duration = .seconds(10),
                                  logger: Logger = Logger(label: "kafka.admin")) async throws -> [String: Int] {
        let client = try NativeClient(kind: RD_KAFKA_PRODUCER, configuration: configuration,
                                      context: ClientContext(logger: logger, statisticsHandler: nil))
        return try await Blocking.run {
            defer { client.destroy() }
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            try KafkaError.check(rd_kafka_metadata(client.handle, 1, nil, &metadata, timeout.milliseconds), "metadata")
            guard let metadata else { return [:] }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [String: Int] = [:]
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
            }
            return topics
        }
    }
}
