import CRdKafka

/// A failed transactional call, as librdkafka classifies it.
public struct KafkaTransactionError: Error, Sendable, CustomStringConvertible {
    public let code: KafkaError.Code
    public let message: String
    /// The producer can do nothing more, e.g. fenced by another producer with the same
    /// `transactional.id` (another run took over): stop.
    public let isFatal: Bool
    /// The transaction must be aborted (``KafkaProducer/abortTransaction(timeout:)``); a new one may follow.
    public let requiresAbort: Bool
    /// The same call may succeed when tried again.
    public let isRetriable: Bool

    public var description: String { "\(message) (\(code.name)\(isFatal ? ", fatal" : ""))" }

    public init(code: KafkaError.Code, message: String, isFatal: Bool, requiresAbort: Bool, isRetriable: Bool) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.requiresAbort = requiresAbort
        self.isRetriable = isRetriable
    }

    /// Takes and destroys `error`; nil when there was none.
    static func consume(_ error: OpaquePointer?, _ what: String) -> KafkaTransactionError? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return KafkaTransactionError(code: KafkaError.Code(rd_kafka_error_code(error)),
                                     message: "\(what): \(String(cString: rd_kafka_error_string(error)))",
                                     isFatal: rd_kafka_error_is_fatal(error) != 0,
                                     requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0,
                                     isRetriable: rd_kafka_error_is_retriable(error) != 0)
    }
}
