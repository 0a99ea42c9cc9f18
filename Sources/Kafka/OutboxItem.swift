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
