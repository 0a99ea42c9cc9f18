import Bridge
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// The consumer runtime: reads `aurora.webhooks` and the retry tiers in a consumer group, runs up
/// to ``WorkerConfiguration/concurrency`` events at once in key order, writes each outcome (or
/// retry, or dead letter) to Kafka and only then stores the offset.
///
/// A `Service`: on graceful shutdown it stops reading, lets running events finish (at most
/// ``WorkerConfiguration/shutdownDrainTimeout``), commits, leaves the group and flushes.
public final class WorkerPool: Service, Sendable {
    public let configuration: WorkerConfiguration
    public let metrics: WorkerMetrics
    private let consumer: KafkaConsumer
    let producer: KafkaProducer
    private let dispatcher: KeyOrderedDispatcher
    private let gate: RetryGate
    private let runner: EventRunner
    private let running = RunningEvents()
    /// Whether the worker can write its records; readiness reports its stall.
    public let health = PublishHealth()
    private let storeLock = Mutex<Void>(())
    private let stopSignal = OneShot()
    private let assignedOnce = Atomic<Bool>(false)
    private let logger: Logger

    /// - Parameters:
    ///   - kafka: bootstrap servers and librdkafka properties for both the consumer and the producer.
    ///   - isKnownTenant: whether a slug is a configured tenant (others are labelled `unknown` in metrics).
    public init(configuration: WorkerConfiguration, kafka: KafkaConfiguration, processor: any EventProcessing,
                metrics: WorkerMetrics = WorkerMetrics(), isKnownTenant: @escaping @Sendable (String) -> Bool = { _ in true },
                logger: Logger = Logger(label: "aurora-bridge.worker")) throws {
        precondition(configuration.concurrency > 0, "a worker needs at least one runner")
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let dispatcher = KeyOrderedDispatcher(maxOutstanding: max(configuration.maxOutstanding, configuration.concurrency))
        self.dispatcher = dispatcher
        producer = try KafkaProducer(configuration: kafka.forProducer, partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                     logger: logger)

        var consumerConfiguration = kafka
        if consumerConfiguration["statistics.interval.ms"] == nil { consumerConfiguration.set("statistics.interval.ms", "5000") }
        let box = RebalanceBox()
        consumer = try KafkaConsumer(
            configuration: consumerConfiguration,
            subscription: .group(id: configuration.groupID, topics: configuration.consumedTopics),
            bufferCapacity: 2048,
            rebalanceHandler: { event in await box.pool()?.rebalanced(event) },
            rebalanceHandlerTimeout: configuration.revokeDrainTimeout + .seconds(10),
            logger: logger,
            statisticsHandler: { json in metrics.lag(ConsumerLag.parse(statistics: json)) })
        gate = RetryGate(consumer: consumer,
                         tierDelays: Dictionary(uniqueKeysWithValues: zip(configuration.topics.retryTiers(configuration.retry.tierDelays.count),
                                                                          configuration.retry.tierDelays)),
                         logger: logger)
        runner = EventRunner(processor: processor, producer: producer, configuration: configuration,
                             records: RecordFactory(topics: configuration.topics, groupID: configuration.groupID),
                             metrics: metrics, health: health, isKnownTenant: isKnownTenant, logger: logger)
        box.set(self)
    }

    /// Whether the group has given this worker an assignment yet (readiness).
    public var hasJoinedGroup: Bool { assignedOnce.load(ordering: .relaxed) }

    /// Whether a broker answers (readiness).
    public func isKafkaReachable() async -> Bool { await producer.isReachable() }

    /// Events running now and read-but-unfinished.
    public var load: (running: Int, outstanding: Int) { dispatcher.counts }

    /// Asks the pool to stop as on graceful shutdown (for embedding without a ServiceGroup).
    public func stop() { stopSignal.fire() }

    public func run() async throws {
        logger.info("worker starting", metadata: [
            "group": "\(configuration.groupID)", "topics": "\(configuration.consumedTopics)",
            "concurrency": "\(configuration.concurrency)",
            "retry-delays": "\(configuration.retry.tierDelays.map { "\(Int($0.seconds))s" })"])
        let intake = Task { await self.intake() }
        let storer = Task { await self.storeLoop() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { runners in
                    for _ in 0..<configuration.concurrency {
                        runners.addTask { await self.runnerLoop() }
                    }
                    await stopSignal.wait()
                    logger.info("worker stopping: draining running events", metadata: ["running": "\(dispatcher.counts.running)"])
                    dispatcher.close()
                    if await !waitUntil(deadline: .now + configuration.shutdownDrainTimeout, { self.dispatcher.counts.running == 0 }) {
                        logger.warning("events still running after \(configuration.shutdownDrainTimeout); cancelling them (they will be read again)")
                        runners.cancelAll()
                    }
                    await runners.waitForAll()
                }
            } onGracefulShutdown: {
                self.stopSignal.fire()
            }
        } onCancel: {
            self.stopSignal.fire()
        }
        // The intake stops before the consumer closes: it must not pause or rewind a closed consumer.
        intake.cancel()
        await intake.value
        storer.cancel()
        await storer.value
        storeFinishedOffsets()
        gate.cancelAll()
        await consumer.close()  // revokes (storing and committing what finished) and leaves the group
        await producer.shutdown()
        logger.info("worker stopped")
    }

    /// Reads records into the dispatcher, holding back retry records that are not due; takes none
    /// while the worker cannot write (``PublishHealth``).
    ///
    /// Room first, then a record: a record held while waiting for room could see its partition
    /// revoked and assigned again meanwhile. The dispatcher refuses such a record anyway (it
    /// carries the earlier assignment), and the gate is not asked about it.
    private func intake() async {
        var messages = consumer.messages.makeAsyncIterator()
        while true {
            await dispatcher.waitForRoom()
            await health.waitUntilWriting()
            guard !Task.isCancelled, let message = await messages.next() else { return }
            guard dispatcher.isCurrent(message), await gate.admit(message) else { continue }
            let key = message.keyText ?? "\(message.topic)[\(message.partition)]"
            dispatcher.submit(message, key: key)
        }
    }

    /// Runs events one after another. Each runs in a task of its own, so that a revoke can cancel
    /// just the events of its partitions (see ``rebalanced(_:)``).
    private func runnerLoop() async {
        while let item = await dispatcher.next() {
            let runner = self.runner, message = item.message
            let task = Task { await runner.run(message) }
            let id = running.add(task, partition: item.partition)
            let completed = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
            running.remove(id)
            dispatcher.finish(item, completed: completed)
        }
    }

    private func storeLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.storeInterval)
            storeFinishedOffsets()
            let counts = dispatcher.counts
            metrics.load(running: counts.running, outstanding: counts.outstanding, parkedPartitions: gate.parkedCount)
        }
    }

    /// Stores each partition's finished prefix (one storer at a time, so stores never go backwards).
    private func storeFinishedOffsets(in partitions: Set<KafkaTopicPartition>? = nil) {
        storeLock.withLock { _ in
            let offsets = dispatcher.takeAdvancedWatermarks(in: partitions)
            guard !offsets.isEmpty else { return }
            do {
                try consumer.storeOffsets(offsets)
            } catch {
                logger.debug("storing offsets failed (partitions moved?)", metadata: ["offsets": "\(offsets)", "error": "\(error)"])
            }
        }
    }

    /// Before partitions move: on assign, start their bookkeeping; on revoke, start nothing new
    /// from them, wait a bounded time for their running events, and store what finished (the
    /// consumer commits it before the partitions go).
    fileprivate func rebalanced(_ event: KafkaRebalanceEvent) async {
        switch event {
        case .assigned(let partitions, let assignment):
            assignedOnce.store(true, ordering: .relaxed)
            dispatcher.assign(partitions, assignment: assignment)
        case .revoked(let list, let lost):
            let partitions = Set(list)
            gate.forget(partitions)
            dispatcher.stopStarting(partitions)
            // Lost partitions may be running on their next owner already: no drain, cancel at once.
            let drained = await waitUntil(deadline: .now + (lost ? .zero : configuration.revokeDrainTimeout)) {
                self.dispatcher.running(in: partitions) == 0
            }
            if !drained {
                // The next owner starts these partitions from their committed offsets as soon as this
                // handler returns: an event still running here would run twice at once.
                let cancelled = running.cancel(in: partitions)
                logger.warning("revoked partitions still have running events after the drain; cancelled them (the next owner runs them again)",
                               metadata: ["cancelled": "\(cancelled)", "drain": "\(configuration.revokeDrainTimeout)"])
                metrics.cancelledOnRevoke(cancelled)
                let stopped = await waitUntil(deadline: .now + Self.cancelGrace) { self.dispatcher.running(in: partitions) == 0 }
                if !stopped {
                    logger.error("revoked events did not stop within \(Self.cancelGrace) of being cancelled; letting the partitions go anyway",
                                 metadata: ["running": "\(dispatcher.running(in: partitions))"])
                }
            }
            storeFinishedOffsets(in: partitions)
            dispatcher.forget(partitions)
        }
    }
}

extension WorkerPool {
    /// How long a revoke waits for cancelled events to stop (an HTTP call ends at once when cancelled).
    static let cancelGrace: Duration = .seconds(5)
}

/// The events running now, each with its partition, so a revoke can cancel those of its partitions.
private final class RunningEvents: Sendable {
    private struct Entry { let partition: KafkaTopicPartition; let task: Task<Bool, Never> }
    private let state = Mutex<(next: Int, entries: [Int: Entry])>((0, [:]))

    func add(_ task: Task<Bool, Never>, partition: KafkaTopicPartition) -> Int {
        state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(partition: partition, task: task)
            return state.next
        }
    }

    func remove(_ id: Int) { _ = state.withLock { $0.entries.removeValue(forKey: id) } }

    /// Cancels the events of `partitions`; returns how many.
    func cancel(in partitions: Set<KafkaTopicPartition>) -> Int {
        let tasks = state.withLock { state in state.entries.values.filter { partitions.contains($0.partition) }.map(\.task) }
        for task in tasks { task.cancel() }
        return tasks.count
    }
}

/// Lets the consumer's rebalance handler reach the pool, which is created after the consumer
/// (weakly: the pool owns the consumer).
private final class RebalanceBox: Sendable {
    private struct Weak: @unchecked Sendable { weak var pool: WorkerPool? }
    private let state = Mutex(Weak())
    private let ready = OneShot()

    func set(_ pool: WorkerPool) {
        state.withLock { $0.pool = pool }
        ready.fire()
    }

    /// The pool, once the initialiser has set it (a group join takes far longer than that).
    func pool() async -> WorkerPool? {
        await ready.wait()
        return state.withLock { $0.pool }
    }
}

/// Polls `condition` until it holds or `deadline` passes.
func waitUntil(deadline: ContinuousClock.Instant, _ condition: @Sendable () -> Bool) async -> Bool {
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}

/// A one-time signal many tasks can wait for.
public final class OneShot: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// Wakes every waiter, now and later. Only the first call counts.
    public func fire() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``fire()`` was called.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let fired: Bool = state.withLock { state in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if fired { continuation.resume() }
        }
    }
}
