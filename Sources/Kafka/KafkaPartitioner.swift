/// How a producer picks the partition of a record that names none.
public enum KafkaPartitioner: Sendable, Equatable {
    /// librdkafka's `partitioner` property (default `consistent_random`: a CRC32 of the whole key).
    case configured
    /// murmur2 (Java's default partitioner) of the key's bytes before the first `separator`, or of
    /// the whole key when it has none: records whose keys share that prefix share a partition.
    /// With keys `tenant/project`, every record of a tenant lands in one partition while the key
    /// still names the project.
    case keyPrefix(separator: UInt8)

}
