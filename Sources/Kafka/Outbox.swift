import Synchronization

/// Hands records to librdkafka in submission order; records that find its queue full wait here
/// (FIFO, so per-key order holds) until the poll thread has served delivery reports.
final class Outbox: Sendable {
    private let client: RDKafkaClient
    private let topics: TopicHandles
    private let waiting = Mutex<[OutboxItem]>([])
    private let waitingCounter = Atomic<Int>(0)

    init(client: RDKafkaClient) {
        self.client = client
        self.topics = TopicHandles(client: client)
    }

    var hasWaiting: Bool { waitingCounter.load(ordering: .acquiring) > 0 }
    var waitingCount: Int { waitingCounter.load(ordering: .acquiring) }

    func submit(_ item: OutboxItem) {
        // Fast path without our lock: nothing waits, so producing now cannot overtake anything.
        if !hasWaiting, enqueue(item) { return }
        waiting.withLock { queue in
            // Behind records already waiting, never ahead of them.
            if queue.isEmpty, enqueue(item) { return }
            queue.append(item)
            waitingCounter.store(queue.count, ordering: .releasing)
        }
    }

    /// Moves waiting records into librdkafka until its queue is full again.
    func drain() {
        guard hasWaiting else { return }
        waiting.withLock { queue in
            var moved = 0
            while moved < queue.count, enqueue(queue[moved]) { moved += 1 }
            queue.removeFirst(moved)
            waitingCounter.store(queue.count, ordering: .releasing)
        }
    }

    /// Withdraws waiting records whose send already gave up (its deadline passed): they never
    /// reach librdkafka, so a long outage does not pile up records nobody waits for.
    func withdrawAbandoned() {
        guard hasWaiting else { return }
        waiting.withLock { queue in
            queue.removeAll { item in
                if case .single(let record) = item { return record.isCompleted }
                return false
            }
            waitingCounter.store(queue.count, ordering: .releasing)
        }
    }

    func failWaiting(_ error: KafkaError) {
        let items = waiting.withLock { queue in
            defer { queue.removeAll(); waitingCounter.store(0, ordering: .releasing) }
            return queue
        }
        for item in items { item.complete(.failure(error)) }
    }

    /// Destroys the topic handles; call once nothing is produced any more, before the client.
    func destroyTopicHandles() { topics.destroyAll() }

    /// Produces one record. Returns false when the queue is full (the record is not consumed);
    /// any other failure completes the record with the error.
    private func enqueue(_ item: OutboxItem) -> Bool {
        let opaque = item.retainedOpaque()
        let result = item.withRecord { topic, partition, key, value, headers in
            // The record's value lives (immutable) until its delivery report, so librdkafka can
            // send it without copying.
            value.withUnsafeBytes { value in
                withOptionalBytes(key) { key in
                    client.produce(topic: topic, handle: topics.handle(topic), partition: partition, key: key, value: value,
                                   headers: headers, opaque: opaque)
                }
            }
        }
        switch result {
        case .queued:
            return true
        case .queueFull:
            item.releaseOpaque(opaque)
            return false
        case .failed(let error):
            item.releaseOpaque(opaque)
            item.complete(.failure(error))
            return true
        }
    }
}

/// `bytes` as a buffer, an empty one without a base address for nil (librdkafka's "no key").
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}
