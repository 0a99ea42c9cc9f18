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

/// The record of one send, carrying the continuation its delivery report (or deadline) resumes.
final class PendingRecord: @unchecked Sendable {
    let topic: String
    let partition: Int32?
    let key: [UInt8]?
    let value: [UInt8]
    let headers: [KafkaHeader]
    let deadline: ContinuousClock.Instant?
    private let continuation: UnsafeContinuation<KafkaDeliveryReport, any Error>
    private let completed = Atomic<Bool>(false)

    init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader],
         continuation: UnsafeContinuation<KafkaDeliveryReport, any Error>, deadline: ContinuousClock.Instant? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.continuation = continuation
        self.deadline = deadline
    }

    var isCompleted: Bool { completed.load(ordering: .acquiring) }

    /// The first call completes the record (its delivery report, a failure, or its deadline);
    /// later calls do nothing.
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        guard !completed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        continuation.resume(with: result.mapError { $0 as any Error })
    }
}

/// The records of one batched send and their results; resumes its caller when the last one is done.
///
/// Each record's opaque pointer is the address of its slot, tagged with the low bit (slots are
/// 16-byte aligned, objects too, so the bit tells a batch slot from a ``PendingRecord``). The
/// batch keeps itself alive, and with it the record values librdkafka sends without copying,
/// until every record is done.
final class PendingBatch: @unchecked Sendable {
    private struct Slot {
        let batch: Unmanaged<PendingBatch>
        let index: Int
    }

    let records: [KafkaRecord]
    // Each result is written once, by whichever thread completes that record; the
    // acquiring-releasing countdown orders all writes before the final read.
    private let results: UnsafeMutableBufferPointer<Result<KafkaDeliveryReport, KafkaError>>
    private let slots: UnsafeMutableBufferPointer<Slot>
    private let remaining: Atomic<Int>
    private let continuation: UnsafeContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>

    private init(_ records: [KafkaRecord], continuation: UnsafeContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        self.records = records
        self.results = .allocate(capacity: records.count)
        self.slots = .allocate(capacity: records.count)
        self.remaining = Atomic(records.count)
        self.continuation = continuation
    }

    /// A batch that holds a reference to itself until its last record completes.
    static func start(_ records: [KafkaRecord],
                      continuation: UnsafeContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) -> PendingBatch {
        let batch = PendingBatch(records, continuation: continuation)
        let retained = Unmanaged.passRetained(batch)
        for index in records.indices {
            (batch.slots.baseAddress! + index).initialize(to: Slot(batch: retained, index: index))
        }
        return batch
    }

    func opaque(_ index: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(slots.baseAddress! + index) + 1
    }

    /// The batch and index of a tagged slot pointer; nil for any other opaque pointer.
    static func slot(_ opaque: UnsafeMutableRawPointer) -> (PendingBatch, Int)? {
        guard UInt(bitPattern: opaque) & 1 == 1 else { return nil }
        let slot = (opaque - 1).assumingMemoryBound(to: Slot.self).pointee
        return (slot.batch.takeUnretainedValue(), slot.index)
    }

    func withRecord<R>(_ index: Int, _ body: (String, Int32?, [UInt8]?, [UInt8], [KafkaHeader]) -> R) -> R {
        let record = records[index]
        return body(record.topic, record.partition, record.key, record.value, record.headers)
    }

    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        (results.baseAddress! + index).initialize(to: result)
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            continuation.resume(returning: Array(results))
            Unmanaged.passUnretained(self).release()  // the reference taken in start(_:continuation:)
        }
    }

    deinit {
        _ = results.deinitialize()
        results.deallocate()
        _ = slots.deinitialize()
        slots.deallocate()
    }
}

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

/// One `rd_kafka_topic_t` per topic name, made on first use: producing through a handle spares
/// librdkafka a lookup by name under its client-wide lock on every record.
final class TopicHandles: Sendable {
    /// An `rd_kafka_topic_t *`; librdkafka's topic handles may be used from any thread.
    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }

    private let client: NativeClient
    private let handles = Mutex<(byName: [String: Handle], destroyed: Bool)>(([:], false))

    init(client: NativeClient) { self.client = client }

    /// The topic's handle, or nil when librdkafka refuses the name or the handles are destroyed
    /// (then the produce call names the topic itself and keeps no handle).
    func handle(_ topic: String) -> OpaquePointer? {
        let handle: Handle? = handles.withLock { handles in
            if let handle = handles.byName[topic] { return handle }
            guard !handles.destroyed, let pointer = rd_kafka_topic_new(client.handle, topic, nil) else { return nil }
            handles.byName[topic] = Handle(pointer: pointer)
            return Handle(pointer: pointer)
        }
        return handle?.pointer
    }

    func destroyAll() {
        let all: [Handle] = handles.withLock { handles in
            defer { handles.byName.removeAll(); handles.destroyed = true }
            return Array(handles.byName.values)
        }
        for handle in all { rd_kafka_topic_destroy(handle.pointer) }
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}
