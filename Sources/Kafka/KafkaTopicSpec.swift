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
