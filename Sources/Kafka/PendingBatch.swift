import Synchronization

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
