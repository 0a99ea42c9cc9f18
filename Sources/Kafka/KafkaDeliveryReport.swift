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
