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

/// Kafka transactions: records sent between ``beginTransaction()`` and
/// ``commitTransaction(timeout:)`` become visible to `read_committed` consumers (librdkafka's
/// default) all together or, after an abort or a crash, never. Needs `transactional.id` in the
/// configuration; a second producer with the same id fences the first (its next call fails fatally)
/// and aborts what it left open. The blocking calls run off Swift's cooperative pool.
extension KafkaProducer {
    /// Registers the `transactional.id` with the cluster, fencing any earlier producer with it and
    /// completing or aborting its open transaction. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("init transactions") { rd_kafka_init_transactions($0, Int32(timeout.milliseconds)) }
    }

    public func beginTransaction() throws {
        if let error = KafkaTransactionError.consume(rd_kafka_begin_transaction(client.handle), "begin transaction") { throw error }
    }

    /// Flushes the transaction's records and commits them.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("commit transaction") { rd_kafka_commit_transaction($0, Int32(timeout.milliseconds)) }
    }

    /// Aborts the open transaction: its records are never visible to `read_committed` readers.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("abort transaction") { rd_kafka_abort_transaction($0, Int32(timeout.milliseconds)) }
    }

    /// Runs one blocking transactional call off the cooperative pool.
    private func transactionCall(_ what: String, _ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws {
        let client = self.client
        try await Blocking.run {
            if let error = KafkaTransactionError.consume(call(client.handle), what) { throw error }
        }
    }
}
