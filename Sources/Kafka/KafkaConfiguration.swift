/// librdkafka properties for a client. Any property of librdkafka's CONFIGURATION.md can be set;
/// the typed initialisers of ``KafkaProducer`` and ``KafkaConsumer`` add durable defaults first.
public struct KafkaConfiguration: Sendable {
    /// The properties in the order they are applied; later values win.
    public private(set) var properties: [(String, String)] = []

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        set("bootstrap.servers", bootstrapServers)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) { set(key, value) }
    }

    /// Sets (or overrides) one librdkafka property.
    public mutating func set(_ key: String, _ value: String) {
        properties.removeAll { $0.0 == key }
        properties.append((key, value))
    }

    public subscript(key: String) -> String? {
        get { properties.last { $0.0 == key }?.1 }
        set {
            if let newValue { set(key, newValue) } else { properties.removeAll { $0.0 == key } }
        }
    }

    /// The same properties without the consumer-only ones (group, session, fetch and commit
    /// settings), for a producer that shares a consumer's configuration without librdkafka
    /// warning about every ignored property.
    public var forProducer: KafkaConfiguration {
        var copy = self
        let consumerOnly = ["group.", "session.timeout.ms", "heartbeat.interval.ms", "auto.offset.reset", "enable.auto.commit",
                            "auto.commit.interval.ms", "enable.auto.offset.store", "max.poll.interval.ms",
                            "partition.assignment.strategy", "fetch.", "queued.", "enable.partition.eof", "isolation.level"]
        copy.properties.removeAll { property in consumerOnly.contains { property.0 == $0 || ($0.hasSuffix(".") && property.0.hasPrefix($0)) } }
        return copy
    }

    /// Sets the properties of `defaults` that are not set yet.
    mutating func applyDefaults(_ defaults: KeyValuePairs<String, String>) {
        for (key, value) in defaults where self[key] == nil { set(key, value) }
    }

    /// Properties whose values must never reach a log or an error message.
    static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "token"]
            .contains { lowered.contains($0) }
    }
}
