import CKafkaShim
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
    private let owner: RDKafkaClient
    private let cluster: MockCluster
    /// Each broker's listener, broker 1 first (the order of `bootstrapServers`).
    private let listeners: [Listener]
    /// The brokers set down, each with the port it holds for its return.
    private let downBrokers = Mutex<[Int32: HeldPort]>([:])

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
        let owner = try RDKafkaClient(.producer, configuration: configuration, context: ClientContext(logger: logger))
        guard let cluster = owner.makeMockCluster(brokers: brokers) else {
            owner.destroy()
            throw KafkaError(code: .state, message: "could not start the embedded Kafka cluster")
        }
        self.owner = owner
        self.cluster = MockCluster(pointer: cluster)
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        self.listeners = bootstrapServers.split(separator: ",").map(Listener.init)
    }

    /// Creates a topic. Replication is capped at the broker count.
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws {
        let replication = min(replicationFactor, Int32(brokerCount))
        try cluster.use { try KafkaError.check(rd_kafka_mock_topic_create($0, name, partitions, replication), "create topic \(name)") }
    }

    /// Disconnects broker `id` (1-based, -1 for all) and refuses new connections. Leaders do not move.
    ///
    /// While a broker is down its port stays held by a bound socket that does not listen: the mock
    /// binds the same port again when the broker comes back, and aborts the process when another
    /// socket took it meanwhile, e.g. a client connection given that port as its local one
    /// (librdkafka 2.0.2). connect() never picks a port that is bound this way.
    public func setBrokerDown(_ id: Int32) throws {
        try downBrokers.withLock { down in
            try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_down($0, id), "broker \(id) down") }
            for broker in brokers(id) where down[broker] == nil {
                down[broker] = HeldPort(listeners[Int(broker) - 1])
            }
        }
    }

    /// Lets broker `id` accept connections again, on its old port.
    /// - Throws: ``KafkaError`` with code `.state`, and the broker stays down, when another socket
    ///   listens on that port (the mock would abort the process).
    public func setBrokerUp(_ id: Int32) throws {
        try downBrokers.withLock { down in
            let returning = brokers(id).filter { down[$0] != nil }
            for broker in returning {
                // What the mock is about to do, tried first.
                let listener = listeners[Int(broker) - 1]
                let trial = kafka_shim_bind_port(listener.host, listener.port, 1)
                guard trial >= 0 else {
                    throw KafkaError(code: .state, message: "broker \(broker) cannot come back up: \(listener) is in use by another socket")
                }
                kafka_shim_close_port(trial)
            }
            try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_up($0, id), "broker \(id) up") }
            for broker in returning { down.removeValue(forKey: broker)?.release() }
        }
    }

    /// The broker ids `id` names: all for -1, none for an id the cluster does not have.
    private func brokers(_ id: Int32) -> [Int32] {
        id == -1 ? Array(1...Int32(brokerCount)) : (1...Int32(brokerCount)).contains(id) ? [id] : []
    }

    /// Adds `milliseconds` of round-trip delay to broker `id` (-1 for all).
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) throws {
        try cluster.use { try KafkaError.check(rd_kafka_mock_broker_set_rtt($0, id, milliseconds), "broker \(id) rtt") }
    }

    /// Makes broker `id` the coordinator of consumer group `group` (instead of the one the mock
    /// picks by hash), so a fault plan can take another broker down without taking the group's.
    public func setGroupCoordinator(_ group: String, broker id: Int32) throws {
        try cluster.use { try KafkaError.check(rd_kafka_mock_coordinator_set($0, "group", group, id), "group \(group) coordinator") }
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
        let held = downBrokers.withLock { down in
            defer { down.removeAll() }
            return Array(down.values)
        }
        for port in held { port.release() }
    }

    deinit { shutdown() }
}

/// A broker's listener address, as the mock reports it (`127.0.0.1:40123`).
private struct Listener: Sendable, CustomStringConvertible {
    let host: String
    let port: Int32

    init(_ address: Substring) {
        let colon = address.lastIndex(of: ":") ?? address.endIndex
        host = String(address[..<colon])
        port = Int32(address[colon...].dropFirst()) ?? 0
    }

    var description: String { "\(host):\(port)" }
}

/// A down broker's port, held by a bound socket that does not listen (none when another socket
/// had taken the port already).
private struct HeldPort: Sendable {
    private let descriptor: Int32

    init(_ listener: Listener) { descriptor = kafka_shim_bind_port(listener.host, listener.port, 0) }

    func release() { kafka_shim_close_port(descriptor) }
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
