import Foundation
import Kafka
import Logging
import Records
import Synchronization

/// Holds back retry tier records until they are due, without a thread or a runner slot: the
/// partition of a record that is not due yet is paused and rewound to that record, and resumed
/// when it is due. Records of a tier are written in due order (each due its tier's delay after it
/// was written; see ``RetryPolicy/decide(_:attempts:)``), so the first one not due means none after
/// it is either. A record due later than its tier's delay allows (written by an older version, or a
/// header set by hand) would hold back every record behind it: it is taken now instead.
final class RetryGate: Sendable {
    private struct Parked {
        let offset: Int64
        var timer: Task<Void, Never>?
    }

    private let consumer: KafkaConsumer
    /// Each tier topic with its delay.
    private let tierDelays: [String: Duration]
    private let logger: Logger
    private let parked = Mutex<[KafkaTopicPartition: Parked]>([:])

    /// How much later than its tier's delay a record may be due (clocks of workers differ a little).
    static let dueSlack: Duration = .seconds(60)

    init(consumer: KafkaConsumer, tierDelays: [String: Duration], logger: Logger) {
        self.consumer = consumer
        self.tierDelays = tierDelays
        self.logger = logger
    }

    /// Partitions waiting for a due time now.
    var parkedCount: Int { parked.withLock { $0.values.filter { $0.timer != nil }.count } }

    /// Whether `message` may be processed now. If it is a tier record that is not due, its
    /// partition is paused and rewound to it, and false is returned; records the partition had
    /// already fetched are refused until the rewound record comes back.
    func admit(_ message: KafkaMessage, now: Date = Date()) async -> Bool {
        let partition = message.topicPartition
        guard let tierDelay = tierDelays[message.topic] else { return true }
        enum Verdict { case pass, refuse, park }
        let verdict: Verdict = parked.withLock { parked in
            if let entry = parked[partition] {
                guard message.offset == entry.offset else { return .refuse }  // fetched before the rewind
                parked[partition] = nil
            }
            return .pass
        }
        if verdict == .refuse { return false }
        guard let due = FailureHeaders.nextAttemptAt(message), due > now else { return true }
        let wait = due.timeIntervalSince(now)
        if wait > (tierDelay + Self.dueSlack).seconds {
            logger.warning("retry record due past its tier's window; taking it now rather than holding the partition", metadata: [
                "partition": "\(partition)", "offset": "\(message.offset)", "due": "\(RecordTimestamp.text(due))", "tier-delay": "\(tierDelay)"])
            return true
        }

        // Not due: pause, rewind, and resume at the due time.
        parked.withLock { $0[partition] = Parked(offset: message.offset, timer: nil) }
        do {
            try consumer.pause([partition])
            try await consumer.seek([KafkaTopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: message.offset)])
        } catch {
            logger.warning("could not hold back \(partition) until its next record is due; taking it now", metadata: ["error": "\(error)"])
            parked.withLock { $0[partition] = nil }
            try? consumer.resume([partition])
            return true
        }
        let consumer = self.consumer, logger = self.logger
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1))
            guard !Task.isCancelled else { return }
            do { try consumer.resume([partition]) } catch {
                logger.debug("resume of \(partition) failed (no longer assigned?)", metadata: ["error": "\(error)"])
            }
        }
        let stale: Task<Void, Never>? = parked.withLock { parked in
            guard parked[partition]?.offset == message.offset else { return timer }  // revoked meanwhile
            parked[partition]?.timer = timer
            return nil
        }
        stale?.cancel()
        logger.debug("retry tier partition waits for its next record", metadata: [
            "partition": "\(partition)", "offset": "\(message.offset)", "due": "\(RecordTimestamp.text(due))"])
        return false
    }

    /// Forgets `partitions` (revoked): their timers stop; a new owner starts from the committed offset.
    func forget(_ partitions: Set<KafkaTopicPartition>) {
        let timers: [Task<Void, Never>] = parked.withLock { parked in
            partitions.compactMap { parked.removeValue(forKey: $0)?.timer }
        }
        for timer in timers { timer.cancel() }
    }

    func cancelAll() {
        let timers = parked.withLock { parked in
            defer { parked.removeAll() }
            return parked.values.compactMap(\.timer)
        }
        for timer in timers { timer.cancel() }
    }
}
