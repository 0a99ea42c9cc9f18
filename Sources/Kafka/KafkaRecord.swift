import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// A record to produce with ``KafkaProducer/send(_:)``.
public struct KafkaRecord: Sendable {
    public var topic: String
    /// The partition to write to; nil lets the producer's ``KafkaPartitioner`` choose by key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}
