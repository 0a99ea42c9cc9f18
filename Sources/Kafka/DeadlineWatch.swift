import Synchronization

/// Sends with a deadline, checked by the poll thread (no timer task per send).
final class DeadlineWatch: Sendable {
    private let records = Mutex<[PendingRecord]>([])
    private let count = Atomic<Int>(0)

    var isWatching: Bool { count.load(ordering: .relaxed) > 0 }

    func watch(_ record: PendingRecord) {
        records.withLock { records in
            records.append(record)
            count.store(records.count, ordering: .relaxed)
        }
    }

    /// Drops completed records and fails those whose deadline passed; returns how many expired.
    @discardableResult
    func expire() -> Int {
        guard isWatching else { return 0 }
        let now = ContinuousClock.now
        let expired: [PendingRecord] = records.withLock { records in
            var expired: [PendingRecord] = []
            records.removeAll { record in
                if record.isCompleted { return true }
                if let deadline = record.deadline, deadline <= now { expired.append(record); return true }
                return false
            }
            count.store(records.count, ordering: .relaxed)
            return expired
        }
        for record in expired {
            record.complete(.failure(KafkaError(code: .timedOut, message: "no delivery report before the send's deadline; the record may still be written")))
        }
        return expired.count
    }
}
