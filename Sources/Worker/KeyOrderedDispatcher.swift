import Kafka
import Synchronization

/// One event handed to a runner.
struct WorkItem: Sendable {
    let message: KafkaMessage
    let key: String
    let partition: KafkaTopicPartition
    let generation: UInt64
}

/// Hands records to runners so that records with the same key run one at a time, in offset order,
/// while different keys run concurrently, also within one partition (the approach of Confluent's
/// parallel-consumer). Tracks each partition's finished prefix for offset storage.
///
/// Pure bookkeeping under one lock: no Kafka calls, no I/O.
final class KeyOrderedDispatcher: Sendable {
    private struct KeyQueue {
        var items = FIFO<WorkItem>()
        var active = false
    }

    private struct State {
        var partitions: [KafkaTopicPartition: PartitionProgress] = [:]
        var queues: [String: KeyQueue] = [:]
        /// Keys whose next record can start (not active, not empty); may hold stale keys, skipped on pop.
        var ready = FIFO<String>()
        var idleRunners = FIFO<UnsafeContinuation<WorkItem?, Never>>()
        var intakeWaiter: UnsafeContinuation<Void, Never>?
        /// Records taken (in a current assignment) and not finished.
        var outstanding = 0
        var running = 0
        var nextGeneration: UInt64 = 1
        var closed = false

        /// Drops the queued records of `partitions` (running ones go on; see ``running(in:)``).
        mutating func dropQueued(of partitions: Set<KafkaTopicPartition>) {
            for (key, var queue) in queues {
                queue.items.filter { !partitions.contains($0.partition) }
                queues[key] = queue.items.isEmpty && !queue.active ? nil : queue
            }
        }

        /// Forgets `partitions`: their unfinished records no longer count.
        mutating func forget(_ partitions: Set<KafkaTopicPartition>) {
            for partition in partitions {
                if let progress = self.partitions.removeValue(forKey: partition) { outstanding -= progress.unfinishedCount }
            }
        }

        /// Takes the intake's waiter if there is room for it now.
        mutating func intakeWithRoom(_ maxOutstanding: Int) -> UnsafeContinuation<Void, Never>? {
            guard outstanding < maxOutstanding, let waiter = intakeWaiter else { return nil }
            intakeWaiter = nil
            return waiter
        }

        /// Starts the next record of `key` on an idle runner if there is one, else marks it ready.
        mutating func schedule(_ key: String) -> (UnsafeContinuation<WorkItem?, Never>, WorkItem)? {
            if let runner = idleRunners.popFirst() {
                return (runner, start(key)!)
            }
            ready.append(key)
            return nil
        }

        /// Marks `key` active and takes its next record; nil if it has none or is already running.
        mutating func start(_ key: String) -> WorkItem? {
            guard var queue = queues[key], !queue.active, let item = queue.items.popFirst() else { return nil }
            queue.active = true
            queues[key] = queue
            running += 1
            partitions[item.partition]?.running += 1
            return item
        }
    }

    private let state = Mutex(State())
    let maxOutstanding: Int

    init(maxOutstanding: Int) { self.maxOutstanding = max(1, maxOutstanding) }

    /// A new assignment of `partitions` (numbered `assignment` by the consumer): their progress
    /// starts afresh, from the committed offset, whatever an earlier assignment left behind. Only
    /// records stamped with this assignment are taken from them from now on.
    func assign(_ partitions: [KafkaTopicPartition], assignment: UInt64) {
        let intake: UnsafeContinuation<Void, Never>? = state.withLock { state in
            let stale = Set(partitions).intersection(state.partitions.keys)
            if !stale.isEmpty {
                state.dropQueued(of: stale)
                state.forget(stale)
            }
            for partition in partitions {
                state.partitions[partition] = PartitionProgress(generation: state.nextGeneration, assignment: assignment)
                state.nextGeneration += 1
            }
            return state.intakeWithRoom(maxOutstanding)
        }
        intake?.resume()
    }

    /// Whether `message` belongs to the current assignment of its partition (else it was read
    /// under an earlier one, or its partition is not assigned here, and must not run).
    func isCurrent(_ message: KafkaMessage) -> Bool {
        state.withLock { $0.partitions[message.topicPartition]?.assignment == message.assignment }
    }

    /// Waits until fewer than `maxOutstanding` records are outstanding (or the dispatcher closed).
    func waitForRoom() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let now: Bool = state.withLock { state in
                if state.closed || state.outstanding < maxOutstanding { return true }
                state.intakeWaiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Queues a record behind earlier records of its key. False when it was not taken: the
    /// dispatcher is closed, its partition is not assigned or it was read under an earlier
    /// assignment, or it is not after the last one taken from its partition.
    @discardableResult
    func submit(_ message: KafkaMessage, key: String) -> Bool {
        let partition = message.topicPartition
        let started: (UnsafeContinuation<WorkItem?, Never>, WorkItem)?? = state.withLock { state in
            guard !state.closed, var progress = state.partitions[partition], progress.assignment == message.assignment,
                  progress.take(message.offset) else { return nil }
            state.partitions[partition] = progress
            state.outstanding += 1
            let item = WorkItem(message: message, key: key, partition: partition, generation: progress.generation)
            var queue = state.queues[key] ?? KeyQueue()
            queue.items.append(item)
            let startsNow = !queue.active && queue.items.count == 1
            state.queues[key] = queue
            return .some(startsNow ? state.schedule(key) : nil)
        }
        guard let started else { return false }
        if let (runner, item) = started { runner.resume(returning: item) }
        return true
    }

    /// The next record to run, waiting for one; nil once the dispatcher is closed.
    func next() async -> WorkItem? {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<WorkItem?, Never>) in
            let immediate: WorkItem?? = state.withLock { state in
                while let key = state.ready.popFirst() {
                    if let item = state.start(key) { return .some(item) }
                }
                if state.closed { return .some(nil) }
                state.idleRunners.append(continuation)
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// A runner is done with `item`. `completed` means its outcome is durable, so its offset may be
    /// stored; false leaves the partition's watermark before it (it will be redelivered).
    func finish(_ item: WorkItem, completed: Bool) {
        let (started, intake): ((UnsafeContinuation<WorkItem?, Never>, WorkItem)?, UnsafeContinuation<Void, Never>?) = state.withLock { state in
            state.running -= 1
            var started: (UnsafeContinuation<WorkItem?, Never>, WorkItem)? = nil
            if var queue = state.queues[item.key] {
                queue.active = false
                if queue.items.isEmpty {
                    state.queues[item.key] = nil
                } else {
                    state.queues[item.key] = queue
                    if !state.closed { started = state.schedule(item.key) }
                }
            }
            if var progress = state.partitions[item.partition], progress.generation == item.generation {
                progress.running -= 1
                if completed {
                    progress.finish(item.message.offset)
                    state.outstanding -= 1
                }
                state.partitions[item.partition] = progress
            }
            return (started, state.intakeWithRoom(maxOutstanding))
        }
        if let (runner, next) = started { runner.resume(returning: next) }
        intake?.resume()
    }

    /// Stops starting records of `partitions`: their queued records are dropped (the next owner
    /// reads them again). Running ones continue; see ``running(in:)``.
    func stopStarting(_ partitions: Set<KafkaTopicPartition>) {
        state.withLock { state in state.dropQueued(of: partitions) }
    }

    /// Events of `partitions` running now.
    func running(in partitions: Set<KafkaTopicPartition>) -> Int {
        state.withLock { state in partitions.reduce(0) { $0 + (state.partitions[$1]?.running ?? 0) } }
    }

    /// Forgets `partitions` (after a revoke): their unfinished records no longer count, and a later
    /// assignment starts fresh.
    func forget(_ partitions: Set<KafkaTopicPartition>) {
        let intake: UnsafeContinuation<Void, Never>? = state.withLock { state in
            state.forget(partitions)
            return state.intakeWithRoom(maxOutstanding)
        }
        intake?.resume()
    }

    /// Watermarks that moved since last taken, for storing (restricted to `partitions` when given).
    func takeAdvancedWatermarks(in partitions: Set<KafkaTopicPartition>? = nil) -> [KafkaTopicPartitionOffset] {
        state.withLock { state in
            var offsets: [KafkaTopicPartitionOffset] = []
            for (partition, var progress) in state.partitions where partitions?.contains(partition) ?? true {
                if let watermark = progress.takeAdvancedWatermark() {
                    state.partitions[partition] = progress
                    offsets.append(KafkaTopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: watermark))
                }
            }
            return offsets
        }
    }

    /// Closes: nothing new is taken or started, queued records are dropped, idle runners get nil.
    /// Running records finish normally.
    func close() {
        let (runners, intake) = state.withLock { state in
            state.closed = true
            for (key, var queue) in state.queues {
                queue.items.removeAll()
                state.queues[key] = queue.active ? queue : nil
            }
            state.ready.removeAll()
            var runners: [UnsafeContinuation<WorkItem?, Never>] = []
            while let runner = state.idleRunners.popFirst() { runners.append(runner) }
            defer { state.intakeWaiter = nil }
            return (runners, state.intakeWaiter)
        }
        for runner in runners { runner.resume(returning: nil) }
        intake?.resume()
    }

    /// Counts for metrics and tests.
    var counts: (running: Int, outstanding: Int) { state.withLock { ($0.running, $0.outstanding) } }
}
