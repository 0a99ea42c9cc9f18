import CKafkaShim
import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

extension UnsafeMutablePointer where Pointee == rd_kafka_topic_partition_list_t {
    /// The entries of a native partition list as Swift values.
    var offsets: [KafkaTopicPartitionOffset] {
        (0..<Int(pointee.cnt)).map { index in
            let element = pointee.elems[index]
            return KafkaTopicPartitionOffset(topic: String(cString: element.topic),
                                             partition: element.partition, offset: element.offset)
        }
    }

    /// Per-entry errors of a native partition list.
    var errors: [(KafkaTopicPartition, KafkaError)] {
        (0..<Int(pointee.cnt)).compactMap { index in
            let element = pointee.elems[index]
            guard element.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            let partition = KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
            return (partition, KafkaError(element.err, context: "\(partition)"))
        }
    }
}

/// Builds a native partition list, hands it to `body` and destroys it afterwards.
func withNativePartitionList<T>(_ entries: [KafkaTopicPartitionOffset],
                                _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T) rethrows -> T {
    let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
    defer { rd_kafka_topic_partition_list_destroy(list) }
    for entry in entries {
        let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)!
        element.pointee.offset = entry.offset
    }
    return try body(list)
}
