import Bridge
import Records
import Tracing

/// How a worker pool runs.
public struct WorkerConfiguration: Sendable {
    /// Consumer group shared by every worker process (`group.id`).
    public var groupID = "aurora-bridge-worker"
    public var topics = Topics.default
    /// Events processed at the same time in this process.
    public var concurrency = 256
    /// Events read from Kafka and not yet finished (running, or waiting behind an earlier event of
    /// their key); at this many the worker stops reading until some finish.
    public var maxOutstanding = 4096
    /// The retry tiers and their delays; a failure after the last tier is dead-lettered.
    public var retry = RetryPolicy()
    /// On a revoke, how long the worker waits for the revoked partitions' running events before it
    /// commits what finished and lets them go.
    public var revokeDrainTimeout: Duration = .seconds(20)
    /// On shutdown, how long running events may take to finish before they are cancelled (and
    /// redelivered to the group later, since their offsets are not committed).
    public var shutdownDrainTimeout: Duration = .seconds(30)
    /// How often the finished prefix of each partition is stored for the next commit.
    public var storeInterval: Duration = .milliseconds(200)
    /// Waits between attempts to publish an outcome, retry or dead-letter record while Kafka refuses.
    public var publishBackoff: ClosedRange<Duration> = .milliseconds(200) ... .seconds(5)
    /// Makes a span for each attempt of an event (the context read from the record's headers) and
    /// writes its context into the records the attempt produces. The process's tracer by default
    /// (`InstrumentationSystem.bootstrap`): bootstrap it before making this configuration.
    public var tracer: any Tracer = InstrumentationSystem.tracer
    /// Failures in a row of one write after which the worker takes no new records and reports not
    /// ready (see ``PublishHealth``); the write itself goes on being tried.
    public var publishFailuresBeforeStall = 5

    public init() {}

    /// The pool's settings under `worker.` and `topics.`, each default the property's own.
    ///
    /// Keys: `worker.group`, `worker.concurrency` (at least 1), `worker.maxOutstanding` (raised to
    /// the concurrency), `worker.retryDelays` (durations; their count is the number of tiers),
    /// `worker.revokeDrain`, `worker.shutdownDrain` (durations), and the topics (``Topics``).
    public init(settings: Settings) throws {
        groupID = settings.string("worker.group", default: groupID)
        topics = Topics(settings: settings)
        concurrency = try settings.int("worker.concurrency", default: concurrency, in: 1...100_000)
        maxOutstanding = max(try settings.int("worker.maxOutstanding", default: maxOutstanding, in: 1...10_000_000), concurrency)
        retry = RetryPolicy(tierDelays: try settings.durations("worker.retryDelays", default: retry.tierDelays))
        revokeDrainTimeout = try settings.duration("worker.revokeDrain", default: revokeDrainTimeout)
        shutdownDrainTimeout = try settings.duration("worker.shutdownDrain", default: shutdownDrainTimeout)
    }

    /// Every topic the worker consumes: the webhooks and the retry tiers.
    public var consumedTopics: [String] { [topics.webhooks] + topics.retryTiers(retry.tierDelays.count) }
}
