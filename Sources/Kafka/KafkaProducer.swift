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

    let client: RDKafkaClient
    private let outbox: Outbox
    private let deadlines: DeadlineWatch
    private let poller: LoopThread
    private let closed = Atomic<Bool>(false)
    private let logger: Logger
    /// See ``init(configuration:partitioner:maxWaitingSends:logger:statisticsHandler:)``.
    public let maxWaitingSends: Int

    /// - Parameters:
    ///   - configuration: bootstrap servers and any librdkafka property; see ``defaults``.
    ///   - statisticsHandler: receives librdkafka's statistics JSON every `statistics.interval.ms`.
    ///   - partitioner: how a record without an explicit partition finds one by its key.
    ///   - maxWaitingSends: sends with a deadline that may wait for room in librdkafka's full queue
    ///     (`queue.buffering.max.messages`/`.kbytes`) before more fail at once; sends without one
    ///     always wait (backpressure).
    public init(configuration: KafkaConfiguration, partitioner: KafkaPartitioner = .configured, maxWaitingSends: Int = .max,
                logger: Logger = Logger(label: "kafka.producer"),
                statisticsHandler: (@Sendable (String) -> Void)? = nil) throws {
        var configuration = configuration
        configuration.applyDefaults(Self.defaults)
        let context = ClientContext(logger: logger, statisticsHandler: statisticsHandler) { opaque, result in
            let item = OutboxItem.delivered(opaque)
            item.complete(result.map { KafkaDeliveryReport(topic: item.topic, partition: $0.partition, offset: $0.offset) })
        }
        let client = try RDKafkaClient(.producer, configuration: configuration, context: context, partitioner: partitioner)
        let outbox = Outbox(client: client)
        let deadlines = DeadlineWatch()
        self.client = client
        self.outbox = outbox
        self.deadlines = deadlines
        self.logger = logger
        self.maxWaitingSends = maxWaitingSends
        // Waking the poll ends it early, so stopping need not wait out its timeout.
        self.poller = LoopThread(name: "kafka-prod-poll", wake: { client.wakePoll() }) {
            // Serves delivery reports, moves records that waited for queue room into librdkafka,
            // and ends the waits of sends whose deadline passed.
            client.poll(timeout: .milliseconds(outbox.hasWaiting || deadlines.isWatching ? 5 : 100))
            if deadlines.expire() > 0 { outbox.withdrawAbandoned() }
            outbox.drain()
        }
    }

    /// Produces one record and waits for its delivery report.
    ///
    /// Records with the same key go to the same partition, in the order their sends began; `partition`
    /// names one instead of letting the ``KafkaPartitioner`` choose.
    /// - Returns: the partition and offset the record was written to.
    /// - Throws: ``KafkaError``, e.g. `.messageTimedOut` when the cluster did not acknowledge it
    ///   within `message.timeout.ms`, or `.destroyed` after shutdown began. Cancelling the calling
    ///   task does not withdraw a record already handed to librdkafka.
    public func send(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [])
        async throws -> KafkaDeliveryReport {
        guard !closed.load(ordering: .acquiring) else {
            throw KafkaError(code: .destroyed, message: "the producer is shut down")
        }
        return try await withUnsafeThrowingContinuation { continuation in
            outbox.submit(.single(PendingRecord(topic: topic, partition: partition, key: key, value: value, headers: headers,
                                                continuation: continuation)))
        }
    }

    /// Like ``send(topic:key:value:headers:)``, but stops waiting after `timeout` with a
    /// `.timedOut` error. A record still waiting for room in librdkafka's queue then is withdrawn;
    /// one librdkafka has taken cannot be: it may still be delivered later, so callers must treat a
    /// timeout as "unknown", never as "not written". When ``maxWaitingSends`` records already wait
    /// for room, it fails at once with `.queueFull` (a long outage must not grow memory without bound).
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], timeout: Duration)
        async throws -> KafkaDeliveryReport {
        guard !closed.load(ordering: .acquiring) else {
            throw KafkaError(code: .destroyed, message: "the producer is shut down")
        }
        guard outbox.waitingCount < maxWaitingSends else {
            throw KafkaError(code: .queueFull, message: "\(outbox.waitingCount) records already wait for room in the producer's queue")
        }
        return try await withUnsafeThrowingContinuation { continuation in
            let record = PendingRecord(topic: topic, key: key, value: value, headers: headers,
                                       continuation: continuation, deadline: .now + timeout)
            deadlines.watch(record)
            outbox.submit(.single(record))
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
            // No object per record: the batch keeps the records and their results together.
            let batch = PendingBatch.start(records, continuation: continuation)
            for index in records.indices { outbox.submit(.batch(batch, index)) }
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

    /// The fatal error the client hit, if any (e.g. an idempotent producer fenced by a newer one, or
    /// one that lost its sequence): no send can succeed any more, the process must start a new producer.
    public var fatalError: KafkaError? {
        guard !closed.load(ordering: .acquiring) else { return nil }
        return client.fatalError
    }

    /// Raises a fatal error in this producer as the cluster would (librdkafka's own test hook): for
    /// tests and drills of what the service does when its producer is fenced.
    @_spi(Testing) public func simulateFatalError(_ code: KafkaError.Code, reason: String) {
        client.raiseFatalError(code, reason: reason)
    }

    /// Records waiting in librdkafka's queue or for room in it.
    public var outstandingCount: Int { client.outstandingCount + outbox.waitingCount }

    /// Waits until every outstanding record is delivered or `timeout` passes.
    /// - Returns: true when nothing is outstanding any more.
    @discardableResult
    public func flush(timeout: Duration = .seconds(30)) async -> Bool {
        let client = self.client, outbox = self.outbox
        return await Blocking.run {
            let deadline = ContinuousClock.now + timeout
            while outbox.waitingCount > 0 || client.outstandingCount > 0 {
                if ContinuousClock.now >= deadline { return false }
                client.flush(timeout: .milliseconds(100))
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
            client.purgeAll()
            poller.stopAndJoin()
            client.flush(timeout: .seconds(1))  // serves the purge delivery reports
            outbox.destroyTopicHandles()
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
            client.purgeAll()
            poller.stopAndJoin()
            client.flush(timeout: .seconds(1))
        } else {
            poller.stopAndJoin()
        }
        outbox.destroyTopicHandles()
        client.destroy()
    }
}
