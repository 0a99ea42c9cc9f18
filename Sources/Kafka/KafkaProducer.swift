import CKafkaShim
import CRdKafka
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// A Kafka producer: idempotent with `acks=all` by default; ``send(topic:key:value:headers:)``
/// returns once the cluster has acknowledged the record.
///
/// Delivery reports are served on a dedicated thread. When librdkafka's local queue is full, sends
/// wait in order for room (backpressure) instead of failing. Run it as a swift-service-lifecycle
/// `Service` or call ``shutdown(timeout:)``, which waits for outstanding deliveries.
public final class KafkaProducer: Service, Sendable {
    /// Durable defaults, applied unless the configuration sets the property.
    public static let defaults: KeyValuePairs<String, String> = [
        "acks": "all",
        "enable.idempotence": "true",
        "linger.ms": "5",
        "message.timeout.ms": "300000",
        "log.connection.close": "false",
    ]

    private let client: NativeClient
    private let outbox: Outbox
    private let deadlines: DeadlineWatch
    private let poller: LoopThread
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    /// - Parameters:
    ///   - configuration: bootstrap servers and any librdkafka property; see ``defaults``.
    ///   - statisticsHandler: receives librdkafka's statistics JSON every `statistics.interval.ms`.
    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "kafka.producer"),
                statisticsHandler: (@Sendable (String) -> Void)? = nil) throws {
        var configuration = configuration
        configuration.applyDefaults(Self.defaults)
        let context = ClientContext(logger: logger, statisticsHandler: statisticsHandler)
        let client = try NativeClient(kind: RD_KAFKA_PRODUCER, configuration: configuration, context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let record = Unmanaged<PendingRecord>.fromOpaque(opaque).takeRetainedValue()
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    record.complete(.success(KafkaDeliveryReport(
                        topic: record.topic, partition: message.pointee.partition, offset: message.pointee.offset)))
                } else {
                    record.complete(.failure(KafkaError(err, context: "delivery to \(record.topic) failed")))
                }
            }
        }
        let outbox = Outbox(client: client)
        let deadlines = DeadlineWatch()
        self.client = client
        self.outbox = outbox
        self.deadlines = deadlines
        self.logger = logger
        self.poller = LoopThread(name: "kafka-producer-poll") {
            // Serves delivery reports, moves records that waited for queue room into librdkafka,
            // and ends the waits of sends whose deadline passed.
            rd_kafka_poll(client.handle, outbox.hasWaiting || deadlines.isWatching ? 5 : 100)
            outbox.drain()
            deadlines.expire()
        }
    }

    /// Produces one record and waits for its delivery report.
    ///
    /// Records with the same key go to the same partition, in the order their sends began.
    /// - Returns: the partition and offset the record was written to.
    /// - Throws: ``KafkaError``, e.g. `.messageTimedOut` when the cluster did not acknowledge it
    ///   within `message.timeout.ms`, or `.destroyed` after shutdown began. Cancelling the calling
    ///   task does not withdraw a record already handed to librdkafka.
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [])
        async throws -> KafkaDeliveryReport {
        guard !closed.load(ordering: .acquiring) else {
            throw KafkaError(code: .destroyed, message: "the producer is shut down")
        }
        return try await withUnsafeThrowingContinuation { continuation in
            outbox.submit(PendingRecord(topic: topic, key: key, value: value, headers: headers,
                                        completion: .single(continuation)))
        }
    }

    /// Like ``send(topic:key:value:headers:)``, but stops waiting after `timeout` with a
    /// `.timedOut` error. The record itself is not withdrawn (librdkafka cannot): it may still be
    /// delivered later, so callers must treat a timeout as "unknown", never as "not written".
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], timeout: Duration)
        async throws -> KafkaDeliveryReport {
        guard !closed.load(ordering: .acquiring) else {
            throw KafkaError(code: .destroyed, message: "the producer is shut down")
        }
        return try await withUnsafeThrowingContinuation { continuation in
            let record = PendingRecord(topic: topic, key: key, value: value, headers: headers,
                                       completion: .single(continuation), deadline: .now + timeout)
            deadlines.watch(record)
            outbox.submit(record)
        }
    }

    /// Produces several records and waits for all their delivery reports: the same guarantees as
    /// one ``send(topic:key:value:headers:)`` per record, at a fraction of the cost per record
    /// (one suspension for the whole batch). For replays, outcome records and bulk loads.
    /// - Returns: one result per record, in the order given.
    public func send(_ records: [KafkaRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        guard !closed.load(ordering: .acquiring) else {
            return Array(repeating: .failure(KafkaError(code: .destroyed, message: "the producer is shut down")), count: records.count)
        }
        return await withUnsafeContinuation { continuation in
            let batch = BatchCompletion(count: records.count, continuation: continuation)
            for (index, record) in records.enumerated() {
                outbox.submit(PendingRecord(topic: record.topic, key: record.key, value: record.value,
                                            headers: record.headers, completion: .batch(batch, index)))
            }
        }
    }

    /// Convenience for UTF-8 keys.
    public func send(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = [])
        async throws -> KafkaDeliveryReport {
        try await send(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }

    /// Whether a broker answers a metadata request within `timeout` (for readiness probes).
    public func isReachable(timeout: Duration = .seconds(2)) async -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        let client = self.client
        return await Blocking.run { client.brokerAnswers(timeout: timeout) }
    }

    /// Records waiting in librdkafka's queue or for room in it.
    public var outstandingCount: Int { Int(rd_kafka_outq_len(client.handle)) + outbox.waitingCount }

    /// Waits until every outstanding record is delivered or `timeout` passes.
    /// - Returns: true when nothing is outstanding any more.
    @discardableResult
    public func flush(timeout: Duration = .seconds(30)) async -> Bool {
        let client = self.client, outbox = self.outbox
        return await Blocking.run {
            let deadline = ContinuousClock.now + timeout
            while outbox.waitingCount > 0 || rd_kafka_outq_len(client.handle) > 0 {
                if ContinuousClock.now >= deadline { return false }
                rd_kafka_flush(client.handle, 100)
            }
            return true
        }
    }

    /// Stops accepting sends, waits up to `timeout` for outstanding deliveries, fails what is left
    /// (`.purgedQueue`/`.purgedInFlight`, so no caller waits forever) and destroys the client.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let delivered = await flush(timeout: timeout)
        if !delivered {
            logger.warning("producer shutdown: \(outstandingCount) records not acknowledged in time, failing them")
        }
        let client = self.client, outbox = self.outbox, poller = self.poller
        await Blocking.run {
            outbox.failWaiting(KafkaError(code: .purgedQueue, message: "the producer shut down before delivery"))
            rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            poller.stopAndJoin()
            rd_kafka_flush(client.handle, 1000)  // serves the purge delivery reports
            client.destroy()
        }
    }

    /// Runs until graceful shutdown is requested, then ``shutdown(timeout:)``.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    deinit {
        // Without an explicit shutdown: fail what is outstanding, stop polling and destroy.
        if !closed.load(ordering: .acquiring) {
            outbox.failWaiting(KafkaError(code: .destroyed, message: "the producer was released"))
            rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            poller.stopAndJoin()
            rd_kafka_flush(client.handle, 1000)
        } else {
            poller.stopAndJoin()
        }
        client.destroy()
    }
}

/// A record to produce with ``KafkaProducer/send(_:)``.
public struct KafkaRecord: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A record on its way to librdkafka, carrying what its delivery report completes.
final class PendingRecord: @unchecked Sendable {
    enum Completion {
        case single(UnsafeContinuation<KafkaDeliveryReport, any Error>)
        case batch(BatchCompletion, Int)
    }

    let topic: String
    let key: [UInt8]?
    let value: [UInt8]
    let headers: [KafkaHeader]
    let deadline: ContinuousClock.Instant?
    private let completion: Completion
    private let completed = Atomic<Bool>(false)

    init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], completion: Completion,
         deadline: ContinuousClock.Instant? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.completion = completion
        self.deadline = deadline
    }

    var isCompleted: Bool { completed.load(ordering: .acquiring) }

    /// The first call completes the record (its delivery report, a failure, or its deadline);
    /// later calls do nothing.
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        guard !completed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        switch completion {
        case .single(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }
}

/// Collects the results of a batch; resumes its caller when the last one arrives.
final class BatchCompletion: @unchecked Sendable {
    // Each slot is written once, by whichever thread serves that record's delivery report; the
    // acquiring-releasing countdown orders all writes before the final read.
    private let results: UnsafeMutableBufferPointer<Result<KafkaDeliveryReport, KafkaError>>
    private let remaining: Atomic<Int>
    private let continuation: UnsafeContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>

    init(count: Int, continuation: UnsafeContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        results = .allocate(capacity: count)
        remaining = Atomic(count)
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        (results.baseAddress! + index).initialize(to: result)
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            continuation.resume(returning: Array(results))
        }
    }

    deinit {
        _ = results.deinitialize()
        results.deallocate()
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

    /// Drops completed records and fails those whose deadline passed.
    func expire() {
        guard isWatching else { return }
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
    }
}

/// Hands records to librdkafka in submission order; records that find its queue full wait here
/// (FIFO, so per-key order holds) until the poll thread has served delivery reports.
final class Outbox: Sendable {
    private let client: NativeClient
    private let waiting = Mutex<[PendingRecord]>([])
    private let waitingCounter = Atomic<Int>(0)

    init(client: NativeClient) { self.client = client }

    var hasWaiting: Bool { waitingCounter.load(ordering: .acquiring) > 0 }
    var waitingCount: Int { waitingCounter.load(ordering: .acquiring) }

    func submit(_ record: PendingRecord) {
        // Fast path without our lock: nothing waits, so producing now cannot overtake anything.
        if !hasWaiting, enqueue(record) { return }
        waiting.withLock { queue in
            // Behind records already waiting, never ahead of them.
            if queue.isEmpty, enqueue(record) { return }
            queue.append(record)
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

    func failWaiting(_ error: KafkaError) {
        let records = waiting.withLock { queue in
            defer { queue.removeAll(); waitingCounter.store(0, ordering: .releasing) }
            return queue
        }
        for record in records { record.complete(.failure(error)) }
    }

    /// Produces one record. Returns false when the queue is full (the record is not consumed);
    /// any other failure completes the record with the error.
    private func enqueue(_ record: PendingRecord) -> Bool {
        var headers: OpaquePointer? = nil
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                if let value = header.value {
                    _ = value.withUnsafeBytes { rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        // The record (and so its value's storage, which is immutable) lives until the delivery
        // report releases it, so librdkafka can send the value without copying it.
        let opaque = Unmanaged.passRetained(record)
        let err = record.value.withUnsafeBytes { value in
            withOptionalBytes(record.key) { key in
                kafka_shim_produce(client.handle, record.topic, kafka_shim_partition_unassigned(),
                                   key.baseAddress, key.count, value.baseAddress, value.count,
                                   0, headers, opaque.toOpaque())
            }
        }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return true }
        opaque.release()
        if let headers { rd_kafka_headers_destroy(headers) }
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { return false }
        record.complete(.failure(KafkaError(err, context: "could not produce to \(record.topic)")))
        return true
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}
