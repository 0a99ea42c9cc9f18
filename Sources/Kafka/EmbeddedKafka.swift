import CRdKafka
import Logging
import Synchronization

/// librdkafka's mock cluster: N brokers speaking the real Kafka protocol on localhost TCP, data in
/// memory. For tests, benchmarks and dev mode; production uses Apache Kafka through the same clients.
///
/// The mock has no CreateTopics: create topics with ``createTopic(_:partitions:replicationFactor:)``
/// (``KafkaTopicSetup`` does this for you). Fault injection: brokers down/up, round-trip delay,
/// errors pushed for a protocol request type.
///
/// Retention: each mock partition keeps at most 5 MiB (or 100,000 batches); older records are
/// dropped, as if by retention. Size partitions so what a reader must still see fits.
public final class EmbeddedKafka: Sendable {
    /// The `bootstrap.servers` string of the cluster's listeners, e.g. `127.0.0.1:40123,...`.
    public let bootstrapServers: String
    public let brokerCount: Int
    private let owner: NativeClient
    private let cluster: MockCluster

    /// Kafka protocol request types, for ``pushRequestErrors(_:_:)``.
    public enum APIKey: Int16, Sendable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9,
             findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14,
             initProducerId = 22
    }

    public init(brokers: Int = 3, logger: Logger = Logger(label: "kafka.embedded")) throws {
        precondition(brokers >= 1, "a cluster needs at least one broker")
        // The mock cluster needs an rd_kafka_t for its bookkeeping; this one never connects anywhere.
        var configuration = KafkaConfiguration(bootstrapServers: "")
        configuration["bootstrap.servers"] = nil
        configuration.set("log_level", "4")  // its only notice would be "no bootstrap.servers"
        let owner = try NativeClient(kind: RD_KAFKA_PRODUCER, configuration: configuration,
                                     context: ClientContext(logger: logger, statisticsHandler: nil))
        guard let cluster = rd_kafka_mock_cluster_new(owner.handle, Int32(brokers)) else {
            owner.destroy()
            throw KafkaError(code: .state, message: "could not start the embedded Kafka cluster")
        }
        self.owner = owner
        self.cluster = MockCluster(pointer: cluster)
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic. Replication is capped at the broker count.
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws {
        let replication = min(replicationFactor, Int32(brokerCount))
        try cluster.use { try KafkaError.check(rd_kafka_mock_topic_create($0, name, partitions, replication), "create topic \(name)") }
    }

    /// Disconnects broker `id` (1-based, -1 for all) and refuses new connections. Leaders do not move.
    public func setBrokerDown(_ id: Int32) throws {
        try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_down($0, id), "broker \(id) down") }
    }

    /// Lets broker `id` accept connections again.
    public func setBrokerUp(_ id: Int32) throws {
        try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_up($0, id), "broker \(id) up") }
    }

    /// Adds `milliseconds` of round-trip delay to broker `id` (-1 for all).
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) throws {
        try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_rtt($0, id, milliseconds), "broker \(id) rtt") }
    }

    /// Makes the next `errors.count` requests of type `api` fail with these errors, in order.
    public func pushRequestErrors(_ api: APIKey, _ errors: [KafkaError.Code]) {
        var native = errors.map(\.rdValue)
        cluster.use { pointer in
            native.withUnsafeMutableBufferPointer {
                rd_kafka_mock_push_request_errors_array(pointer, api.rawValue, $0.count, $0.baseAddress)
            }
        }
    }

    /// Stops the brokers. Clients still connected see them disappear. Safe to call more than once.
    public func shutdown() {
        cluster.destroy()
        owner.destroy()
    }

    deinit { shutdown() }
}

/// The mock cluster pointer, destroyed exactly once; calls after destruction throw or are ignored.
private final class MockCluster: @unchecked Sendable {
    // Guarded by `lock`; the mock API itself is thread-safe.
    private var pointer: OpaquePointer?
    private let lock = Mutex(())

    init(pointer: OpaquePointer) { self.pointer = pointer }

    func use<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        try lock.withLock { _ in
            guard let pointer else { throw KafkaError(code: .destroyed, message: "the embedded cluster is shut down") }
            return try body(pointer)
        }
    }

    func use(_ body: (OpaquePointer) -> Void) {
        lock.withLock { _ in
            if let pointer { body(pointer) }
        }
    }

    func destroy() {
        lock.withLock { _ in
            if let pointer { rd_kafka_mock_cluster_destroy(pointer) }
            pointer = nil
        }
    }
}
