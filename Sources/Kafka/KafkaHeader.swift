/// A record header. DESIGN.md's headers are UTF-8 text; Kafka allows any bytes or none.
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ text: String) {
        self.init(key: key, value: Array(text.utf8))
    }

    /// The value as UTF-8 text, or nil when absent or not valid UTF-8.
    public var text: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The text of the last header named `key` (Kafka allows repeats; the last one wins).
    public func text(_ key: String) -> String? { last { $0.key == key }?.text }
}
