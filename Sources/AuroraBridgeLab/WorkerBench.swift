import ArgumentParser
import AsyncHTTPClient
import Bridge
import CLISupport
import Foundation
import HTTPAPI
import Kafka
import Logging
import Records
import Sandbox
import Synchronization
import Worker

/// `aurora-bridge-lab bench worker publish|run`: the worker figures of ops/bench.
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Publish N signed webhooks for the sandbox's tenants, or process them with the worker pool or a sequential baseline.",
        discussion: """
            ops/bench/run starts `aurora-bridge kafka` and `aurora-bridge sandbox --registry-out DIR \
            --tenants-out FILE`, then:
              aurora-bridge-lab bench worker publish --bootstrap B \\
                --sandbox-tenants FILE --events 10000
              aurora-bridge-lab bench worker run --bootstrap B \\
                --tenants DIR/tenants.yaml --events 10000 --mode pool --concurrency 256
            `run` stops when coperniq.projects holds --events outcome records (several `run` \
            processes in one --group share the work) and prints one JSON line of figures.
            """,
        subcommands: [Publish.self, Run.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish N signed webhooks, one per sandbox project in turn.")

        @Option(help: "Kafka bootstrap servers.") var bootstrap: String
        @Option(help: "The sandbox's tenants (sandbox --tenants-out).") var sandboxTenants: String
        @Option(help: "Number of webhooks.") var events = 10_000
        @Option(help: "Topic.") var topic = Topics.default.webhooks
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            try logging.bootstrap()
            let tenants = try JSONCoding.decoder.decode([SandboxTenant].self, from: Data(contentsOf: URL(fileURLWithPath: sandboxTenants)))
            let projects = tenants.flatMap { tenant in tenant.projects.map { (tenant.slug, $0) } }
            guard !projects.isEmpty else { throw ValidationError("the sandbox has no projects") }
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap),
                                             partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator), logger: Logger(label: "bench.publish"))
            var records: [KafkaRecord] = []
            for index in 0..<events {
                let (slug, project) = projects[index % projects.count]
                var params = ["project_id": project.projectID, "agreement_id": project.agreementID, "status": "signed",
                              "design_id": project.designID]
                if let financing = project.financingID { params["financing_id"] = financing }
                let envelope = WebhookEnvelope(id: UUID().uuidString, tenant: slug, params: params, receivedAt: Date())
                records.append(KafkaRecord(topic: topic, key: Array(envelope.kafkaKey.utf8), value: Array(try envelope.encoded()),
                                           headers: [KafkaHeader("event-id", envelope.id), KafkaHeader("tenant", slug)]))
            }
            for chunk in stride(from: 0, to: records.count, by: 1000) {
                for result in await producer.send(Array(records[chunk..<min(chunk + 1000, records.count)])) { _ = try result.get() }
            }
            await producer.shutdown()
            printFlushed("published \(events) webhooks to \(topic)")
        }
    }

    struct Run: AsyncParsableCommand, ChoosesTaskExecutor {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Process webhooks until the outcome topic holds --events records; print the figures.")

        enum Mode: String, ExpressibleByArgument, CaseIterable {
            /// The worker pool: key-ordered, --concurrency events in flight.
            case pool
            /// The baseline: one event per partition at a time.
            case sequential
        }

        @Option(help: "Kafka bootstrap servers.") var bootstrap: String
        @OptionGroup var tenants: TenantsFileOption
        @Option(help: "Outcome records to wait for.") var events = 10_000
        @Option(help: "pool or sequential.") var mode: Mode = .pool
        @Option(help: "Events in flight (pool).") var concurrency = 256
        @Option(help: "Consumer group.") var group = "bench-workers"
        @OptionGroup var executor: TaskExecutorOption
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            try logging.bootstrap()
            let registry = try tenants.load()
            let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
            let http = HTTPClient.forAPIs(connectionsPerHost: concurrency * 2)
            let limiters = RateLimiters()
            let stats = BenchStats()
            let processor = Measured(inner: EventProcessor(
                tenant: { registry[$0] },
                clients: { TenantClients.live(for: $0, limiters: limiters, http: http) },
                logger: Logger(label: "bench.processor")), stats: stats)
            var configuration = WorkerConfiguration()
            configuration.groupID = group
            configuration.concurrency = mode == .pool ? concurrency : 1
            let cpuBefore = cpuSeconds()

            let warmup = events / 10
            let finished = try OutcomeCounter(configuration: kafka, topic: configuration.topics.outcomes, target: events, warmup: warmup)
            switch mode {
            case .pool:
                let pool = try WorkerPool(configuration: configuration, kafka: kafka, processor: processor,
                                          logger: Logger(label: "bench.worker"))
                let task = Task { try await pool.run() }
                await finished.wait()
                pool.stop()
                try await task.value
            case .sequential:
                let baseline = try SequentialConsumer(configuration: configuration, kafka: kafka, processor: processor)
                let task = Task { await baseline.run() }
                await finished.wait()
                await baseline.stop()
                await task.value
            }
            await finished.close()
            try await http.shutdown()
            let cpu = cpuSeconds() - cpuBefore
            let figures = stats.figures
            let result: JSONValue = [
                "mode": .string(mode.rawValue), "concurrency": .integer(configuration.concurrency), "processed": .integer(figures.count),
                "firstStart": .number(figures.firstStart), "lastEnd": .number(figures.lastEnd),
                "meanLatencySeconds": .number(figures.meanLatency), "cpuSeconds": .number(cpu),
                "steadyEvents": .integer(events - warmup), "steadyCpuSeconds": .number(finished.steadyCPUSeconds ?? -1),
                "peakResidentBytes": .integer(peakResidentBytes() ?? -1),
            ]
            printFlushed(String(decoding: result.encoded(), as: UTF8.self))
        }
    }
}

/// Per-event processing times and the span of the run.
final class BenchStats: Sendable {
    private let state = Mutex<(count: Int, total: Double, first: Double, last: Double)>((0, 0, .infinity, 0))

    func record(start: Date, end: Date) {
        state.withLock { state in
            state.count += 1
            state.total += end.timeIntervalSince(start)
            state.first = min(state.first, start.timeIntervalSince1970)
            state.last = max(state.last, end.timeIntervalSince1970)
        }
    }

    var figures: (count: Int, meanLatency: Double, firstStart: Double, lastEnd: Double) {
        state.withLock { state in
            (state.count, state.count > 0 ? state.total / Double(state.count) : 0, state.count > 0 ? state.first : 0, state.last)
        }
    }
}

/// Times each event's processing (Little's law needs the mean time an event holds a slot).
struct Measured: EventProcessing {
    let inner: any EventProcessing
    let stats: BenchStats

    func process(_ envelope: WebhookEnvelope, progress: EventProgress?) async -> EventOutcome {
        let start = Date()
        let outcome = await inner.process(envelope, progress: progress)
        stats.record(start: start, end: Date())
        return outcome
    }
}

/// Counts the records of the outcome topic from the beginning; `wait()` returns at `target`.
/// Notes this process's CPU time when the count passes `warmup` and when it reaches `target`,
/// so the steady state can be told from start-up (group join, opening connections).
final class OutcomeCounter: Sendable {
    private let consumer: KafkaConsumer
    private let reached = OneShot()
    private let reader: Task<Void, Never>
    private let marks = CPUMarks()

    init(configuration: KafkaConfiguration, topic: String, target: Int, warmup: Int) throws {
        let consumer = try KafkaConsumer(configuration: configuration,
                                         subscription: .group(id: "bench-counter-\(UUID().uuidString.prefix(8))", topics: [topic]),
                                         logger: Logger(label: "bench.counter"))
        self.consumer = consumer
        let reached = self.reached, marks = self.marks
        reader = Task {
            var count = 0
            for await _ in consumer.messages {
                count += 1
                if count == warmup { marks.note(\.warm) }
                if count == target { marks.note(\.end) }
                if count >= target { reached.fire() }
            }
        }
    }

    func wait() async { await reached.wait() }

    /// CPU seconds of this process from the `warmup`-th outcome to the `target`-th.
    var steadyCPUSeconds: Double? { marks.span }

    func close() async {
        await consumer.close()
        await reader.value
    }
}

/// This process's CPU time at two moments.
final class CPUMarks: Sendable {
    struct Marks { var warm: Double?; var end: Double? }
    private let marks = Mutex(Marks())

    func note(_ mark: WritableKeyPath<Marks, Double?> & Sendable) {
        let now = cpuSeconds()
        marks.withLock { $0[keyPath: mark] = now }
    }

    /// CPU seconds from the first mark to the second, once both are noted.
    var span: Double? {
        marks.withLock { marks in marks.warm.flatMap { warm in marks.end.map { $0 - warm } } }
    }
}

/// The baseline: a plain consumer that processes one event per partition at a time, in order,
/// writes its outcome record, then stores the offset.
final class SequentialConsumer: Sendable {
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let processor: any EventProcessing
    private let outcomesTopic: String

    init(configuration: WorkerConfiguration, kafka: KafkaConfiguration, processor: any EventProcessing) throws {
        consumer = try KafkaConsumer(configuration: kafka, subscription: .group(id: configuration.groupID, topics: [configuration.topics.webhooks]),
                                     logger: Logger(label: "bench.sequential"))
        producer = try KafkaProducer(configuration: kafka, logger: Logger(label: "bench.sequential"))
        self.processor = processor
        outcomesTopic = configuration.topics.outcomes
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            var lanes: [KafkaTopicPartition: AsyncStream<KafkaMessage>.Continuation] = [:]
            for await message in consumer.messages {
                if lanes[message.topicPartition] == nil {
                    let (stream, continuation) = AsyncStream<KafkaMessage>.makeStream()
                    lanes[message.topicPartition] = continuation
                    group.addTask { await self.lane(stream) }
                }
                lanes[message.topicPartition]!.yield(message)
            }
            for lane in lanes.values { lane.finish() }
        }
    }

    private func lane(_ messages: AsyncStream<KafkaMessage>) async {
        for await message in messages {
            guard let envelope = try? WebhookEnvelope.decode(Data(message.value)) else { continue }
            let outcome = await processor.process(envelope, progress: nil)
            if let value = OutcomeRecord(envelope: envelope, outcome: outcome, attempts: 1, processedAt: Date()) {
                _ = try? await producer.send(topic: outcomesTopic, key: message.key, value: value.encoded())
            }
            try? consumer.storeOffset(message)
        }
    }

    func stop() async {
        await consumer.close()
        await producer.shutdown()
    }
}

/// User plus system CPU time of this process, in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
