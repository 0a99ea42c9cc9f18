import Synchronization

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
