import CKafkaShim

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

/// A topic and partition.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A topic, partition and offset. For commits and stored offsets the offset is, as everywhere in
/// Kafka, the offset of the next record to read (last processed + 1).
public struct KafkaTopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var topicPartition: KafkaTopicPartition { .init(topic: topic, partition: partition) }
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// Special offsets understood by librdkafka.
public enum KafkaOffset {
    public static var beginning: Int64 { kafka_shim_offset_beginning() }
    public static var end: Int64 { kafka_shim_offset_end() }
    public static var stored: Int64 { kafka_shim_offset_stored() }
    public static var invalid: Int64 { kafka_shim_offset_invalid() }
}

/// A record read by a ``KafkaConsumer``.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch (create or log-append time), nil when the broker sent none.
    public var timestampMilliseconds: Int64?
    /// The assignment of its partition this message was read under (``KafkaRebalanceEvent/assigned(_:assignment:)``);
    /// 0 when it was not read by a consumer.
    public var assignment: UInt64 = 0

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// The key as UTF-8 text, when it is.
    public var keyText: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }
    public var topicPartition: KafkaTopicPartition { .init(topic: topic, partition: partition) }
    /// The offset to store or commit once this record is processed.
    public var nextOffset: KafkaTopicPartitionOffset {
        .init(topic: topic, partition: partition, offset: offset + 1)
    }
}

/// Where a produced record landed, from its delivery report.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    /// A report made outside librdkafka (publishers that stand in for Kafka in benchmarks and tests).
    @_spi(Testing) public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A partition's bounds: `low` is its first offset, `high` the offset its next record will get.
public struct KafkaWatermarks: Sendable, Hashable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}
