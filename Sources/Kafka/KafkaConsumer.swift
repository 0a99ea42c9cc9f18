import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// A Kafka consumer: a consumer group over several topics (or a manual assignment) whose records
/// arrive through ``messages``, with explicit offset storage (`enable.auto.offset.store=false`).
///
/// The consumer polls on a dedicated thread into a bounded buffer; when the buffer holds
/// `bufferCapacity` records it pauses fetching until half of them are taken. Offsets are committed
/// only once stored with ``storeOffset(_:)``: periodically (`auto.commit.interval.ms`), on
/// ``commit()``, on revoke and on ``close(timeout:)``.
public final class KafkaConsumer: Service, Sendable {
    /// What the consumer reads.
    public enum Subscription: Sendable {
        /// Joins consumer group `groupID` (librdkafka's `group.id`) and subscribes to `topics`.
        case group(id: String, topics: [String])
        /// Reads exactly these partitions from these offsets, outside any group's assignment
        /// (without a `group.id` in the configuration, nothing is committed).
        case partitions([KafkaTopicPartitionOffset])
    }

    /// Defaults for at-least-once consumption, applied unless the configuration sets the property.
    public static let defaults: KeyValuePairs<String, String> = [
        "enable.auto.offset.store": "false",
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "auto.offset.reset": "earliest",
        // Incremental rebalancing: partitions that stay with a consumer are never revoked, so
        // their in-flight work and commits are not disturbed when members join or leave.
        "partition.assignment.strategy": "cooperative-sticky",
        "enable.partition.eof": "false",
        "log.connection.close": "false",
    ]

    /// The records, in partition order. One iterator at a time; it ends after ``close(timeout:)``.
    public let messages: Messages

    private let client: RDKafkaClient
    private let buffer: MessageBuffer
    private let flow: FlowControl
    private let rebalancer: Rebalancer
    private let poller: LoopThread
    private let closeState = Mutex<CloseState>(.open)
    private let logger: Logger
    private let joinsGroup: Bool

    private enum CloseState { case open, closing([CheckedContinuation<Void, Never>]), closed }

    /// - Parameters:
    ///   - rebalanceHandler: runs on every assignment change before the partitions move; the
    ///     consumer waits for it (at most `rebalanceHandlerTimeout`) so a caller can finish
    ///     in-flight work and store its offsets.
    ///   - commitTimeout: how long a commit (``commit()``, and the one on revoke) waits for the
    ///     group coordinator. librdkafka alone would wait forever for one that does not answer.
    public init(configuration: KafkaConfiguration,
                subscription: Subscription,
                bufferCapacity: Int = 10_000,
                rebalanceHandler: (@Sendable (KafkaRebalanceEvent) async -> Void)? = nil,
                rebalanceHandlerTimeout: Duration = .seconds(60),
                commitTimeout: Duration = .seconds(10),
                logger: Logger = Logger(label: "kafka.consumer"),
                statisticsHandler: (@Sendable (String) -> Void)? = nil) throws {
        var configuration = configuration
        switch subscription {
        case .group(let id, _):
            configuration.set("group.id", id)
        case .partitions:
            // librdkafka assigns only with a group.id; a reader of its own commits nothing, so
            // it moves no group's position.
            if configuration["group.id"] == nil {
                configuration.set("group.id", "reader-\(UInt64.random(in: 0...UInt64.max))")
                configuration.set("enable.auto.commit", "false")
            }
        }
        configuration.applyDefaults(Self.defaults)
        let context = ClientContext(logger: logger, statisticsHandler: statisticsHandler)
        let client = try RDKafkaClient(.consumer, configuration: configuration, context: context)
        let buffer = MessageBuffer(capacity: bufferCapacity)
        let flow = FlowControl(client: client, buffer: buffer, logger: logger)
        self.client = client
        self.buffer = buffer
        self.flow = flow
        self.logger = logger
        self.messages = Messages(buffer: buffer)
        if case .group = subscription { joinsGroup = true } else { joinsGroup = false }

        let rebalancer = Rebalancer(client: client, buffer: buffer, flow: flow, handler: rebalanceHandler,
                                    handlerTimeout: rebalanceHandlerTimeout, commitTimeout: commitTimeout, logger: logger)
        self.rebalancer = rebalancer
        context.rebalanceHandler.withLock { $0 = { change in rebalancer.handle(change) } }

        switch subscription {
        case .group(_, let topics):
            try client.subscribe(topics)
        case .partitions(let offsets):
            try client.assign(offsets)
            _ = flow.assigned(offsets.map(\.topicPartition))
        }

        let topicNames = TopicNameCache()
        self.poller = LoopThread(name: "kafka-cons-poll") {
            if let batch = client.poll(limit: 256, timeout: .milliseconds(100), topicNames: topicNames, logger: logger) {
                // A rebalance served by the poll may have revoked some of these partitions.
                buffer.append(flow.keepingAssigned(batch))
            }
            flow.update()
        }
    }

    /// Stores the offset after `message` for the next commit: call once its outcome is durable.
    public func storeOffset(_ message: KafkaMessage) throws {
        try storeOffsets([message.nextOffset])
    }

    /// Stores offsets (each the next offset to read) for the next commit.
    public func storeOffsets(_ offsets: [KafkaTopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        try client.storeOffsets(offsets)
    }

    /// Commits the stored offsets now and waits for the group coordinator's answer.
    /// - Throws: ``KafkaError``; `.timedOut` when the coordinator did not answer within the
    ///   consumer's `commitTimeout` (the commit may still happen).
    public func commit() async throws {
        let client = self.client, timeout = rebalancer.commitTimeout
        try await Blocking.run {
            if let error = client.commitStoredOffsets(timeout: timeout), error.code != .noOffset { throw error }
        }
    }

    /// The group's committed offsets for `partitions` (offset ``KafkaOffset/invalid`` when none).
    public func committed(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws
        -> [KafkaTopicPartitionOffset] {
        let client = self.client
        return try await Blocking.run { try client.committed(partitions, timeout: timeout) }
    }

    /// Stops fetching from `partitions` until ``resume(_:)``. Records already buffered still arrive.
    public func pause(_ partitions: [KafkaTopicPartition]) throws { try flow.pause(partitions) }

    /// Resumes fetching from partitions paused with ``pause(_:)``.
    public func resume(_ partitions: [KafkaTopicPartition]) throws { try flow.resume(partitions) }

    /// Moves the fetch position of assigned partitions; buffered records of those partitions are
    /// dropped, so the next record of each is the one at its new offset.
    public func seek(_ offsets: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        let client = self.client, buffer = self.buffer
        try await Blocking.run {
            try client.seek(offsets, timeout: timeout)
            buffer.remove(partitions: Set(offsets.map(\.topicPartition)))
        }
    }

    /// Each partition's first offset and the offset its next record will get, asked of the
    /// partition leaders (a reader uses `high` to know when it has read everything present).
    public func watermarks(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws
        -> [KafkaTopicPartition: KafkaWatermarks] {
        let client = self.client
        return try await Blocking.run {
            var result: [KafkaTopicPartition: KafkaWatermarks] = [:]
            for partition in partitions { result[partition] = try client.watermarks(partition, timeout: timeout) }
            return result
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [KafkaTopicPartition] { try client.assignment() }

    /// Leaves the group cleanly: the revoke handler runs, stored offsets are committed, the
    /// sequence of messages ends and the client is destroyed. Safe to call more than once.
    ///
    /// - Parameter timeout: how long to wait for the group to be left. When the cluster does not
    ///   answer, librdkafka may retry forever; after `timeout` this returns with a warning and the
    ///   close goes on in the background. Offsets it could not commit are read again later.
    public func close(timeout: Duration = .seconds(30)) async {
        let first: Bool = closeState.withLock { state in
            guard case .open = state else { return false }
            state = .closing([])
            return true
        }
        guard first else {
            await withCheckedContinuation { continuation in
                let done: Bool = closeState.withLock { state in
                    if case .closing(var waiters) = state {
                        waiters.append(continuation)
                        state = .closing(waiters)
                        return false
                    }
                    return true
                }
                if done { continuation.resume() }
            }
            return
        }
        let client = self.client, poller = self.poller, buffer = self.buffer, logger = self.logger
        // librdkafka 2.0.2 (Debian's) aborts in rd_kafka_destroy when a cooperative-sticky member is
        // destroyed after its JoinGroup but before its first assignment. Give a join in progress a
        // moment to finish (the poll thread keeps serving it); if it cannot (the cluster went away
        // mid-join), the handle is left undestroyed rather than crash the process.
        if unsafeToDestroy {
            let deadline = ContinuousClock.now + .seconds(10)
            while !flow.hasBeenAssigned, ContinuousClock.now < deadline, await joinMayBeInProgress() {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let unsafeToDestroy = self.unsafeToDestroy
        let rebalancer = self.rebalancer
        await Blocking.run {
            poller.stopAndJoin()
            rebalancer.closing(until: .now + timeout)  // the final commit waits no longer than the close
            let closed = client.closeConsumer(timeout: timeout) {  // serves the final revoke
                Self.release(client, unsafeToDestroy: unsafeToDestroy, logger: logger)
            }
            if !closed {
                logger.warning("consumer close gave up waiting after \(timeout): the cluster does not answer. Stored offsets may stay uncommitted, so their records will be read again; the close goes on in the background")
            }
            buffer.finish()
        }
        let waiters: [CheckedContinuation<Void, Never>] = closeState.withLock { state in
            defer { state = .closed }
            if case .closing(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether a group join could be under way: some broker answers (no join happens otherwise).
    private func joinMayBeInProgress() async -> Bool {
        let client = self.client
        return await Blocking.run { client.brokerAnswers(timeout: .milliseconds(500)) }
    }

    /// Runs until graceful shutdown is requested, then ``close(timeout:)``.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// A group consumer closed before its first assignment arrived: librdkafka 2.0.2 aborts when
    /// such a handle is destroyed.
    private var unsafeToDestroy: Bool { joinsGroup && !flow.hasBeenAssigned }

    /// Destroys a closed consumer's handle, or keeps it for the rest of the process when
    /// destroying it is unsafe (see ``unsafeToDestroy``).
    private static func release(_ client: RDKafkaClient, unsafeToDestroy: Bool, logger: Logger) {
        if unsafeToDestroy {
            logger.warning("consumer closed before its group assignment arrived; its librdkafka handle is kept, not destroyed (librdkafka 2.0.2 aborts on that destroy)")
            client.abandon()
        } else {
            client.destroy()
        }
    }

    deinit {
        let open: Bool = closeState.withLock { if case .open = $0 { return true }; return false }
        if open {
            // Released without close(timeout:): nobody can store an offset any more, so the
            // records end now; the bounded close runs on a thread of its own, since this may be
            // the cooperative pool and the close can wait 30 s for a cluster that does not answer.
            buffer.finish()
            let client = self.client, poller = self.poller, unsafeToDestroy = self.unsafeToDestroy, logger = self.logger
            NamedThread.start("kafka-close") {
                poller.stopAndJoin()
                _ = client.closeConsumer(timeout: .seconds(30)) {
                    Self.release(client, unsafeToDestroy: unsafeToDestroy, logger: logger)
                }
            }
        }
    }

    /// The consumer's records as an `AsyncSequence`.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = KafkaMessage
        let buffer: MessageBuffer

        public struct AsyncIterator: AsyncIteratorProtocol {
            let buffer: MessageBuffer
            public mutating func next() async -> KafkaMessage? { await buffer.next() }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
    }
}
