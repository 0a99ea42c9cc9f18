import ArgumentParser
import Bridge
import ConsoleIndex
import Foundation
import HTTPAPI
import Kafka
import Logging
import Records

/// `aurora-bridge-lab bench console`: the console's index at size. Builds an index of N synthetic
/// events through the indexer's own path (`IndexStore.apply`), times searches of every kind at that
/// size, and, with --bootstrap, times the catch-up from real topics against the way the question is
/// answered without the console: reading the outcomes topic end to end.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Build the console's index at size, time its searches and its catch-up from the topics.",
        discussion: """
            Example (ops/bench/run console):
              aurora-bridge-lab bench console --events 1000000 \\
                --bootstrap 127.0.0.1:9092 --catch-up 100000
            """
    )

    @Option(help: "Events in the index (each a webhook and an outcome; 1 in 25 retried, 1 in 100 dead-lettered).")
    var events = 1_000_000

    @Option(help: "The index file (default: a new one in the temporary directory, deleted after).")
    var index: String?

    @Option(help: "Queries timed per kind of search.")
    var queries = 200

    @Option(help: "Kafka bootstrap servers: also time the catch-up from topics and the topic scan.")
    var bootstrap: String?

    @Option(help: "Events published to the topics for the catch-up.")
    var catchUp = 100_000

    func run() async throws {
        let path = index ?? FileManager.default.temporaryDirectory.appendingPathComponent("console-bench-\(getpid()).sqlite").path
        defer { if index == nil { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } } }
        let store = try IndexStore(path: path, rebuild: true)
        let generator = SyntheticEvents()

        // 1. Build through the indexer's path, 5,000 events per batch.
        var records = 0
        let buildStart = ContinuousClock.now
        var next = 0
        while next < events {
            let batch = (next..<min(events, next + 5_000)).flatMap { generator.records(of: $0) }
            try await store.apply(batch, topics: .default)
            records += batch.count
            next += 5_000
        }
        let buildSeconds = (ContinuousClock.now - buildStart).seconds
        let fileBytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }.reduce(0, +)

        // 2. Searches of each kind, on events spread over the index.
        var searches: [String: JSONValue] = [:]
        for kind in SyntheticEvents.QueryKind.allCases {
            var times: [Double] = []
            var found = 0
            for query in 0..<queries {
                let event = (query * 7_919 + 13) % events
                let text = generator.query(kind, event: event)
                let start = ContinuousClock.now
                let results = try store.search(text)
                times.append((ContinuousClock.now - start).seconds * 1000)
                if results.contains(where: { $0.eventID == generator.eventID(event) }) { found += 1 }
            }
            times.sort()
            searches[kind.rawValue] = ["p50Ms": .number(times[times.count / 2]), "p99Ms": .number(times[min(times.count - 1, times.count * 99 / 100)]),
                                       "maxMs": .number(times.last ?? 0), "found": .integer(found), "queries": .integer(queries)]
        }
        var result: JSONValue = [
            "events": .integer(events), "records": .integer(records), "buildSeconds": .number(buildSeconds),
            "buildRecordsPerSecond": .number(Double(records) / buildSeconds), "indexMiB": .number(Double(fileBytes) / 1_048_576),
            "searches": .object(searches), "peakRSSMiB": .number(Self.peakRSSMiB()),
        ]

        // 3. Catch-up from the topics, beside the topic scan an operator does without the console.
        if let bootstrap {
            let configuration = KafkaConfiguration(bootstrapServers: bootstrap)
            var logger = Logger(label: "bench.console")
            logger.logLevel = .warning
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            var published = 0
            for start in stride(from: 0, to: catchUp, by: 5_000) {
                let batch = (start..<min(catchUp, start + 5_000)).flatMap { generator.records(of: $0) }
                for report in await producer.send(batch.map { KafkaRecord(topic: $0.topic, key: $0.key, value: $0.value, headers: $0.headers) }) {
                    _ = try report.get()
                }
                published += batch.count
            }
            await producer.shutdown()
            let fresh = try IndexStore(path: path + ".catchup", rebuild: true)
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + ".catchup" + suffix) } }
            let follower = IndexFollower(store: fresh, configuration: configuration, topics: .default, group: "bench-console", logger: logger)
            let start = ContinuousClock.now
            let task = Task { try await follower.run() }
            while !follower.caughtUp { try await Task.sleep(for: .milliseconds(20)) }
            let catchUpSeconds = (ContinuousClock.now - start).seconds
            task.cancel()
            try await task.value

            // Without the console: every outcome read and decoded to find one customer.
            let name = generator.query(.customerName, event: catchUp / 2)
            let scanStart = ContinuousClock.now
            let outcomes = try await KafkaTopicReader.readAll(Topics.default.outcomes, configuration: configuration, logger: logger)
            let matches = outcomes.filter { (try? OutcomeRecord.decode($0.value))?.title?.localizedCaseInsensitiveContains(name) == true }.count
            let scanSeconds = (ContinuousClock.now - scanStart).seconds
            let searchStart = ContinuousClock.now
            let indexed = try fresh.search(name).count
            let searchSeconds = (ContinuousClock.now - searchStart).seconds
            result = result.merging(["catchUpEvents": .integer(catchUp), "catchUpRecords": .integer(published),
                                     "catchUpSeconds": .number(catchUpSeconds), "catchUpRecordsPerSecond": .number(Double(published) / catchUpSeconds),
                                     "topicScanSeconds": .number(scanSeconds), "topicScanMatches": .integer(matches),
                                     "indexSearchSeconds": .number(searchSeconds), "indexSearchMatches": .integer(indexed)])
        }
        print(String(decoding: result.encoded(), as: UTF8.self))
    }

    static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

extension JSONValue {
    func merging(_ other: [String: JSONValue]) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        for (key, value) in other { fields[key] = value }
        return .object(fields)
    }
}

/// Deterministic synthetic events: names from 400 first × 1,000 last names, one tenant in 200,
/// the records the pipeline writes for each (Records' own writers).
struct SyntheticEvents: Sendable {
    enum QueryKind: String, CaseIterable { case eventID, auroraProject, agreement, coperniqProject, customerName, lastName, email, tenant }

    static let first = (0..<400).map { "First\(Self.word($0))" }
    static let last = (0..<1_000).map { "Last\(Self.word($0 * 7 + 3))" }
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    static func word(_ n: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var n = n, text = ""
        repeat { text.append(letters[n % 26]); n /= 26 } while n > 0
        return text
    }

    func eventID(_ n: Int) -> String { String(format: "e%08x-%04x-4000-8000-%012x", n &* 2_654_435_761 & 0xffff_ffff, n & 0xffff, n) }
    func tenant(_ n: Int) -> String { "tenant-\(n % 200)" }
    func project(_ n: Int) -> String { "P\(n)" }
    func name(_ n: Int) -> (String, String) { (Self.first[(n / 7) % 400], Self.last[(n * 31) % 1_000]) }
    func email(_ n: Int) -> String { "\(name(n).0.lowercased()).\(name(n).1.lowercased())\(n)@example.com" }

    func query(_ kind: QueryKind, event n: Int) -> String {
        switch kind {
        case .eventID: eventID(n)
        case .auroraProject: project(n)
        case .agreement: "A\(n)"
        case .coperniqProject: String(100_000 + n)
        case .customerName: "\(name(n).0) \(name(n).1)"
        case .lastName: name(n).1
        case .email: email(n)
        case .tenant: tenant(n)
        }
    }

    func records(of n: Int) -> [KafkaMessage] {
        let received = base.addingTimeInterval(Double(n) * 0.05)
        let envelope = WebhookEnvelope(id: eventID(n), tenant: tenant(n), params: ["project_id": project(n), "agreement_id": "A\(n)", "status": "signed"],
                                       receivedAt: received)
        let trace = RecordTrace(TraceParent(traceID: String(format: "%032x", n + 1), spanID: String(format: "%016x", n + 1)))
        let webhook = WebhookRecord.make(envelope, trace: trace)
        let partition = Int32(n % 12), offset = Int64(n)
        let first = KafkaMessage(topic: webhook.topic, partition: partition, offset: offset, key: webhook.key, value: webhook.value,
                                 headers: webhook.headers, timestampMilliseconds: Int64(received.timeIntervalSince1970 * 1000))
        var out = [first]
        var attempts = 1
        if n % 25 == 0 {
            let failed = FailureHeaders.after(first, errorClass: n % 100 == 0 ? .forbidden("aurora") : .serverError("coperniq"),
                                              errorMessage: "answered 503", attempts: 1, consumerGroup: "aurora-bridge-worker",
                                              nextAttemptAt: n % 100 == 0 ? nil : received.addingTimeInterval(30), now: received.addingTimeInterval(1),
                                              worker: "worker-\(n % 4):1", startedAt: received.addingTimeInterval(0.8))
            let topic = n % 100 == 0 ? Topics.default.deadLetter : Topics.default.retryTier(1)
            out.append(KafkaMessage(topic: topic, partition: partition, offset: offset, key: first.key, value: first.value,
                                    headers: failed.headers(eventID: envelope.id, tenant: envelope.tenant, trace: trace, carrying: first.headers),
                                    timestampMilliseconds: Int64(received.timeIntervalSince1970 * 1000) + 1_000))
            if n % 100 == 0 { return out }
            attempts = 2
        }
        let processed = received.addingTimeInterval(attempts == 1 ? 0.4 : 31)
        var outcome = OutcomeRecord(eventID: envelope.id, tenant: envelope.tenant, outcome: .created, auroraProjectID: project(n), agreementID: "A\(n)",
                                    status: "signed", coperniqProjectID: 100_000 + n, title: "\(name(n).0) \(name(n).1) – \(n % 999) Main St",
                                    receivedAt: RecordTimestamp.text(received), processedAt: RecordTimestamp.text(processed), attempts: attempts)
        outcome.email = email(n)
        outcome.worker = "worker-\(n % 4):1"
        outcome.startedAt = RecordTimestamp.text(processed.addingTimeInterval(-0.3))
        out.append(KafkaMessage(topic: Topics.default.outcomes, partition: partition, offset: offset, key: first.key, value: outcome.encoded(),
                                headers: WebhookRecord.headers(for: envelope, trace: trace),
                                timestampMilliseconds: Int64(processed.timeIntervalSince1970 * 1000)))
        return out
    }
}
