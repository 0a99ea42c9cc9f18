import CRdKafka

/// An error reported by librdkafka or by this layer, with librdkafka's error code and name.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t`: negative values are client-side, positive ones broker-side.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }

        var rdValue: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

        /// librdkafka's symbolic name, e.g. `_MSG_TIMED_OUT` or `NOT_LEADER_FOR_PARTITION`.
        public var name: String { String(cString: rd_kafka_err2name(rdValue)) }
        public var description: String { name }

        public static var noError: Code { Code(RD_KAFKA_RESP_ERR_NO_ERROR) }
        /// The message was not acknowledged within `message.timeout.ms` (e.g. the cluster is unreachable).
        public static var messageTimedOut: Code { Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT) }
        /// The local producer queue is full (`queue.buffering.max.messages` / `.kbytes`).
        public static var queueFull: Code { Code(RD_KAFKA_RESP_ERR__QUEUE_FULL) }
        /// A timed operation did not complete in time.
        public static var timedOut: Code { Code(RD_KAFKA_RESP_ERR__TIMED_OUT) }
        /// No broker can be reached.
        public static var allBrokersDown: Code { Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) }
        /// The message was purged before delivery (the client is shutting down).
        public static var purgedQueue: Code { Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE) }
        public static var purgedInFlight: Code { Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) }
        /// Nothing to commit: no offsets were stored since the last commit.
        public static var noOffset: Code { Code(RD_KAFKA_RESP_ERR__NO_OFFSET) }
        public static var topicAlreadyExists: Code { Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) }
        public static var unknownTopicOrPartition: Code { Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) }
        public static var notLeaderForPartition: Code { Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION) }
        public static var requestTimedOut: Code { Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT) }
        public static var notEnoughReplicas: Code { Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS) }
        public static var unsupportedVersion: Code { Code(RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) }
        /// The client is closed or shutting down.
        public static var destroyed: Code { Code(RD_KAFKA_RESP_ERR__DESTROY) }
        /// A configuration property or value was rejected.
        public static var invalidConfiguration: Code { Code(RD_KAFKA_RESP_ERR__INVALID_ARG) }
        /// The requested partition is not assigned to this consumer.
        public static var unknownPartition: Code { Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) }
        public static var state: Code { Code(RD_KAFKA_RESP_ERR__STATE) }
        /// The cluster refused access to the topic (an ACL).
        public static var topicAuthorizationFailed: Code { Code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) }
        /// The client hit a fatal error (see ``KafkaProducer/fatalError``) and can do nothing more.
        public static var fatal: Code { Code(RD_KAFKA_RESP_ERR__FATAL) }
        /// The idempotent producer lost track of its sequence numbers (one of the fatal causes).
        public static var outOfOrderSequenceNumber: Code { Code(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER) }
        /// A newer producer with the same `transactional.id` took over.
        public static var producerFenced: Code { Code(RD_KAFKA_RESP_ERR__FENCED) }
    }

    public let code: Code
    /// A human-readable explanation. Never contains configuration values, so never a secret.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(code: Code(err), message: context.map { "\($0): \(text)" } ?? text)
    }

    /// True for failures that may succeed when tried again later (timeouts, unreachable brokers,
    /// leader changes); false for configuration and usage errors.
    public var isRetriable: Bool {
        switch code {
        case .messageTimedOut, .queueFull, .timedOut, .allBrokersDown, .notLeaderForPartition,
             .requestTimedOut, .notEnoughReplicas, .unknownTopicOrPartition:
            return true
        default:
            return false
        }
    }

    public var description: String { "Kafka error \(code.name): \(message)" }

    static func check(_ err: rd_kafka_resp_err_t, _ context: @autoclosure () -> String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: context()) }
    }

    /// Converts an `rd_kafka_error_t` (newer librdkafka API) and destroys it.
    static func consume(_ error: OpaquePointer?, context: String) -> KafkaError? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        let code = Code(rd_kafka_error_code(error))
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? code.name
        return KafkaError(code: code, message: "\(context): \(text)")
    }
}
