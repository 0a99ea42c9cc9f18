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
