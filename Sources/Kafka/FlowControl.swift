import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// Pauses and resumes partitions for two reasons that must not undo each other: the caller's
/// ``KafkaConsumer/pause(_:)`` and the buffer being full.
final class FlowControl: Sendable {
    private struct State {
        /// The assigned partitions, each with the number of its assignment.
        var assigned: [KafkaTopicPartition: UInt64] = [:]
        var lastAssignment: UInt64 = 0
        var pausedByCaller: Set<KafkaTopicPartition> = []
        var pausedForBuffer = false
        var everAssigned = false
    }

    private let client: RDKafkaClient
    private let buffer: MessageBuffer
    private let logger: Logger
    private let state = Mutex(State())

    init(client: RDKafkaClient, buffer: MessageBuffer, logger: Logger) {
        self.client = client
        self.buffer = buffer
        self.logger = logger
    }

    /// Whether the group has handed this consumer an assignment (possibly empty) yet.
    var hasBeenAssigned: Bool { state.withLock { $0.everAssigned } }

    /// Records an assignment of `partitions` and returns its number (see ``KafkaRebalanceEvent``).
    func assigned(_ partitions: [KafkaTopicPartition]) -> UInt64 {
        state.withLock { state in
            state.everAssigned = true
            state.lastAssignment += 1
            for partition in partitions { state.assigned[partition] = state.lastAssignment }
            if state.pausedForBuffer { _ = apply(pause: true, partitions) }
            return state.lastAssignment
        }
    }

    func revoked(_ partitions: [KafkaTopicPartition]) {
        state.withLock { state in
            for partition in partitions { state.assigned[partition] = nil }
            state.pausedByCaller.subtract(partitions)
        }
    }

    /// The messages of `batch` whose partitions are assigned, each stamped with its assignment.
    func keepingAssigned(_ batch: [KafkaMessage]) -> [KafkaMessage] {
        state.withLock { state in
            batch.compactMap { message in
                guard let assignment = state.assigned[message.topicPartition] else { return nil }
                var stamped = message
                stamped.assignment = assignment
                return stamped
            }
        }
    }

    func pause(_ partitions: [KafkaTopicPartition]) throws {
        try state.withLock { state in
            try check(apply(pause: true, partitions))
            state.pausedByCaller.formUnion(partitions)
        }
    }

    func resume(_ partitions: [KafkaTopicPartition]) throws {
        try state.withLock { state in
            state.pausedByCaller.subtract(partitions)
            if !state.pausedForBuffer { try check(apply(pause: false, partitions)) }
        }
    }

    /// Called by the poll thread: pause everything at capacity, resume at half.
    func update() {
        let count = buffer.count
        state.withLock { state in
            if !state.pausedForBuffer, count >= buffer.capacity {
                state.pausedForBuffer = true
                _ = apply(pause: true, Array(state.assigned.keys))
            } else if state.pausedForBuffer, count <= buffer.capacity / 2 {
                state.pausedForBuffer = false
                _ = apply(pause: false, state.assigned.keys.filter { !state.pausedByCaller.contains($0) })
            }
        }
    }

    private func check(_ errors: [(KafkaTopicPartition, KafkaError)]) throws {
        if let (_, error) = errors.first { throw error }
    }

    /// Pauses or resumes; returns per-partition errors (e.g. not assigned).
    private func apply(pause: Bool, _ partitions: [KafkaTopicPartition]) -> [(KafkaTopicPartition, KafkaError)] {
        client.setPaused(pause, partitions)
    }
}
