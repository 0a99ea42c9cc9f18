import CRdKafka

/// An `rd_kafka_topic_partition_list_t *` of the librdkafka layer: one it made for a call
/// (``with(_:_:)``) or one a callback lent it. Used only inside ``RDKafkaClient``'s calls.
struct RDKafkaPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// The entries as Swift values.
    var offsets: [KafkaTopicPartitionOffset] {
        (0..<Int(pointer.pointee.cnt)).map { index in
            let element = pointer.pointee.elems[index]
            return KafkaTopicPartitionOffset(topic: String(cString: element.topic), partition: element.partition, offset: element.offset)
        }
    }

    /// The entries' partitions.
    var partitions: [KafkaTopicPartition] { offsets.map(\.topicPartition) }

    /// Per-entry errors.
    var errors: [(KafkaTopicPartition, KafkaError)] {
        (0..<Int(pointer.pointee.cnt)).compactMap { index in
            let element = pointer.pointee.elems[index]
            guard element.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            let partition = KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
            return (partition, KafkaError(element.err, context: "\(partition)"))
        }
    }

    /// Builds a list of `entries`, hands it to `body` and destroys it afterwards.
    static func with<T>(_ entries: [KafkaTopicPartitionOffset], _ body: (RDKafkaPartitionList) throws -> T) rethrows -> T {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in entries {
            let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)!
            element.pointee.offset = entry.offset
        }
        return try body(RDKafkaPartitionList(pointer: list))
    }

    /// A list of `partitions` without offsets.
    static func with<T>(_ partitions: [KafkaTopicPartition], _ body: (RDKafkaPartitionList) throws -> T) rethrows -> T {
        try with(partitions.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.invalid) }, body)
    }
}
