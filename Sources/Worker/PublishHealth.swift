import Foundation
import Kafka
import Synchronization

/// Whether the worker can write the records an event ends with (outcome, retry, dead letter).
///
/// A write Kafka keeps refusing (a missing topic, a missing ACL, a fatal producer error) cannot be
/// waited out by the event that needs it. After ``WorkerConfiguration/publishFailuresBeforeStall``
/// failures in a row of one write, or at once on a fatal producer error, the worker is *stalled*:
/// it takes no new records and reports not ready with the cause, until a write succeeds again (a
/// fatal error never clears: the process needs a restart, and `/healthz` says so).
public final class PublishHealth: Sendable {
    /// Why the worker stopped taking records.
    public struct Stall: Sendable, Equatable {
        public let topic: String
        public let error: String
        /// The producer can never write again; restart the process.
        public let fatal: Bool
        public let since: Date

        /// One line for logs and `/readyz`.
        public var cause: String {
            fatal ? "the producer hit a fatal error writing to \(topic): \(error); restart the worker"
                : "cannot write to \(topic): \(error)"
        }
    }

    private let state = Mutex<Stall?>(nil)

    public init() {}

    /// The stall, or nil while writes work.
    public var stall: Stall? { state.withLock { $0 } }

    /// Records a stall; returns whether it is new (so the caller logs it once).
    func stalled(topic: String, error: String, fatal: Bool) -> Bool {
        state.withLock { stall in
            guard stall == nil || (fatal && stall?.fatal == false) else { return false }
            stall = Stall(topic: topic, error: error, fatal: fatal, since: Date())
            return true
        }
    }

    /// A write succeeded; returns the stall it ends, if any (a fatal one never ends).
    func wrote() -> Stall? {
        state.withLock { stall in
            guard let current = stall, !current.fatal else { return nil }
            stall = nil
            return current
        }
    }

    /// Returns once writes work (at once when they do), or when the task is cancelled.
    func waitUntilWriting() async {
        while stall != nil, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
