import Synchronization

/// The bounded hand-over between a consumer's poll thread and the task iterating its messages.
/// The poll thread appends; one iterator takes. "Bounded" is enforced by the poll thread pausing
/// fetches at ``capacity`` (see ``KafkaConsumer``), so appends themselves never block.
final class MessageBuffer: Sendable {
    private struct State {
        var storage: [KafkaMessage] = []
        var head = 0
        var waiter: UnsafeContinuation<KafkaMessage?, Never>? = nil
        var finished = false
        var count: Int { storage.count - head }

        mutating func popFirst() -> KafkaMessage? {
            guard head < storage.count else { return nil }
            let message = storage[head]
            head += 1
            if head > 1024, head * 2 > storage.count {
                storage.removeFirst(head)
                head = 0
            }
            return message
        }
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { state.withLock { $0.count } }

    /// Appends a batch; wakes the iterator if it waits.
    func append(_ messages: [KafkaMessage]) {
        guard !messages.isEmpty else { return }
        let resumed: (UnsafeContinuation<KafkaMessage?, Never>, KafkaMessage)? = state.withLock { state in
            guard !state.finished else { return nil }
            state.storage.append(contentsOf: messages)
            guard let waiter = state.waiter, let first = state.popFirst() else { return nil }
            state.waiter = nil
            return (waiter, first)
        }
        if let (waiter, message) = resumed { waiter.resume(returning: message) }
    }

    /// Drops buffered messages of `partitions` (revoked, or repositioned by a seek).
    func remove(partitions: Set<KafkaTopicPartition>) {
        guard !partitions.isEmpty else { return }
        state.withLock { state in
            let kept = state.storage[state.head...].filter { !partitions.contains($0.topicPartition) }
            state.storage = Array(kept)
            state.head = 0
        }
    }

    /// Ends the sequence: the iterator gets what is buffered, then nil.
    func finish() {
        let waiter = state.withLock { state -> UnsafeContinuation<KafkaMessage?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next message, waiting for one; nil once finished and drained, or when the task is cancelled.
    func next() async -> KafkaMessage? {
        if let ready = state.withLock({ $0.popFirst() }) { return ready }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<KafkaMessage?, Never>) in
                let immediate: KafkaMessage?? = state.withLock { state in
                    if let message = state.popFirst() { return .some(message) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "KafkaConsumer.messages supports one iterator at a time")
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> UnsafeContinuation<KafkaMessage?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
