/// Kafka transactions: records sent between ``beginTransaction()`` and
/// ``commitTransaction(timeout:)`` become visible to `read_committed` consumers (librdkafka's
/// default) all together or, after an abort or a crash, never. Needs `transactional.id` in the
/// configuration; a second producer with the same id fences the first (its next call fails fatally)
/// and aborts what it left open. The blocking calls run off Swift's cooperative pool.
extension KafkaProducer {
    /// Registers the `transactional.id` with the cluster, fencing any earlier producer with it and
    /// completing or aborting its open transaction. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await Blocking.run { try client.initTransactions(timeout: timeout) }
    }

    public func beginTransaction() throws { try client.beginTransaction() }

    /// Flushes the transaction's records and commits them.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await Blocking.run { try client.commitTransaction(timeout: timeout) }
    }

    /// Aborts the open transaction: its records are never visible to `read_committed` readers.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await Blocking.run { try client.abortTransaction(timeout: timeout) }
    }
}
