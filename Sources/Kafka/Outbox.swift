import CKafkaShim
import CRdKafka
import Synchronization

/// A record on its way through librdkafka: the record of one send, or one record of a batch.
/// Its opaque pointer travels with the message and comes back in the delivery report.
enum OutboxItem: Sendable {
    case single(PendingRecord)
    case batch(PendingBatch, Int)

    /// The item a delivery report's opaque pointer stands for; takes back the reference
    /// ``retainedOpaque()`` gave librdkafka.
    static func delivered(_ opaque: UnsafeMutableRawPointer) -> OutboxItem {
        if let (batch, index) = PendingBatch.slot(opaque) { return .batch(batch, index) }
        return .single(Unmanaged<PendingRecord>.fromOpaque(opaque).takeRetainedValue())
    }

    /// The opaque pointer for librdkafka, holding a reference until the delivery report
    /// (a batch holds itself until its last record is done, see ``PendingBatch/start(_:continuation:)``).
    func retainedOpaque() -> UnsafeMutableRawPointer {
        switch self {
        case .single(let record): Unmanaged.passRetained(record).toOpaque()
        case .batch(let batch, let index): batch.opaque(index)
        }
    }

    /// Gives back the reference of ``retainedOpaque()`` when librdkafka did not take the record.
    func releaseOpaque(_ opaque: UnsafeMutableRawPointer) {
        if case .single = self { Unmanaged<PendingRecord>.fromOpaque(opaque).release() }
    }

    var topic: String {
        switch self {
        case .single(let record): record.topic
        case .batch(let batch, let index): batch.records[index].topic
        }
    }

    /// Reads the record's fields without copying them.
    func withRecord<R>(_ body: (_ topic: String, _ partition: Int32?, _ key: [UInt8]?, _ value: [UInt8], _ headers: [KafkaHeader]) -> R) -> R {
        switch self {
        case .single(let record): body(record.topic, record.partition, record.key, record.value, record.headers)
        case .batch(let batch, let index): batch.withRecord(index, body)
        }
    }

    /// The first call completes the item; later ones do nothing (single records) or must not
    /// happen (batch records complete exactly once: delivery report, refusal or shutdown).
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        switch self {
        case .single(let record): record.complete(result)
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }
}

/// Hands records to librdkafka in submission order; records that find its queue full wait here
/// (FIFO, so per-key order holds) until the poll thread has served delivery reports.
final class Outbox: Sendable {
    private let client: NativeClient
    private let topics: TopicHandles
    private let waiting = Mutex<[OutboxItem]>([])
    private let waitingCounter = Atomic<Int>(0)

    init(client: NativeClient) {
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
        let err = item.withRecord { topic, partition, key, value, headers in
            // The record's value lives (immutable) until its delivery report, so librdkafka can
            // send it without copying.
            let nativeHeaders = Self.nativeHeaders(headers)
            let err = value.withUnsafeBytes { value in
                withOptionalBytes(key) { key in
                    kafka_shim_produce(client.handle, topics.handle(topic), topic, partition ?? kafka_shim_partition_unassigned(),
                                       key.baseAddress, key.count, value.baseAddress, value.count,
                                       0, nativeHeaders, opaque)
                }
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR, let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
            return err
        }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return true }
        item.releaseOpaque(opaque)
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { return false }
        item.complete(.failure(KafkaError(err, context: "could not produce to \(item.topic)")))
        return true
    }

    /// A native header list (owned by librdkafka once produced), or nil for none.
    private static func nativeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let native = rd_kafka_headers_new(headers.count)
        for header in headers {
            if let value = header.value {
                _ = value.withUnsafeBytes { rd_kafka_header_add(native, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(native, header.key, -1, nil, 0)
            }
        }
        return native
    }
}

/// `bytes` as a buffer, an empty one without a base address for nil (librdkafka's "no key").
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}
