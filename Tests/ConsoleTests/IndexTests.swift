import Bridge
@testable import ConsoleIndex
import Foundation
import HTTPAPI
import Kafka
import Records
import Testing

/// The records one event's life writes, as the pipeline writes them (Records' writers).
struct EventStory {
    let topics = Topics.default
    let id: String
    let tenant: String
    let project: String
    let received: Date
    let trace = TraceParent(traceID: String(repeating: "ab", count: 16), spanID: String(repeating: "cd", count: 8))

    init(_ id: String, tenant: String = "acme-solar", project: String = "P-1", received: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.id = id
        self.tenant = tenant
        self.project = project
        self.received = received
    }

    var envelope: WebhookEnvelope {
        WebhookEnvelope(id: id, tenant: tenant, params: ["project_id": project, "agreement_id": "A-\(project)", "status": "signed"],
                        receivedAt: received)
    }

    func webhook(offset: Int64, partition: Int32 = 0) -> KafkaMessage {
        let record = WebhookRecord.make(envelope, trace: RecordTrace(trace))
        return KafkaMessage(topic: record.topic, partition: partition, offset: offset, key: record.key, value: record.value,
                            headers: record.headers, timestampMilliseconds: millis(received))
    }

    /// A failed attempt's record on retry tier `tier` (or the dead-letter topic when nil).
    func failure(after source: KafkaMessage, attempt: Int, tier: Int?, offset: Int64, at: Date, errorClass: ErrorClass = .serverError("coperniq"))
        -> KafkaMessage {
        let headers = FailureHeaders.after(source, errorClass: errorClass, errorMessage: "Coperniq answered 503", attempts: attempt,
                                           consumerGroup: "aurora-bridge-worker", nextAttemptAt: tier.map { _ in at.addingTimeInterval(30) },
                                           now: at, worker: "worker-1:7", startedAt: at.addingTimeInterval(-0.25))
            .headers(eventID: id, tenant: tenant, trace: RecordTrace(trace), carrying: source.headers)
        return KafkaMessage(topic: tier.map(topics.retryTier) ?? topics.deadLetter, partition: 0, offset: offset, key: source.key,
                            value: source.value, headers: headers, timestampMilliseconds: millis(at))
    }

    func outcome(offset: Int64, at: Date, attempts: Int, title: String = "Jane O'Brien – 12 Main St", email: String = "jane.obrien@example.com")
        -> KafkaMessage {
        var value = OutcomeRecord(eventID: id, tenant: tenant, outcome: .created, auroraProjectID: project, agreementID: "A-\(project)",
                                  status: "signed", coperniqProjectID: 4242, title: title, receivedAt: RecordTimestamp.text(received),
                                  processedAt: RecordTimestamp.text(at), attempts: attempts)
        value.email = email
        value.worker = "worker-2:9"
        value.startedAt = RecordTimestamp.text(at.addingTimeInterval(-0.5))
        return KafkaMessage(topic: topics.outcomes, partition: 0, offset: offset, key: Array("\(tenant)/\(project)".utf8), value: value.encoded(),
                            headers: [KafkaHeader(RecordHeader.eventID, id), KafkaHeader(RecordHeader.tenant, tenant)], timestampMilliseconds: millis(at))
    }

    func ledger(for deadLetter: KafkaMessage, offset: Int64, at: Date, by: String = "console:ana") -> KafkaMessage {
        let entry = ReplayLedgerEntry(replayID: "r-1", at: RecordTimestamp.text(at), eventID: id, by: by)
        let record = entry.record(for: deadLetter, topic: topics.replayLedger)
        return KafkaMessage(topic: record.topic, partition: 0, offset: offset, key: record.key, value: record.value, timestampMilliseconds: millis(at))
    }

    func replayed(_ deadLetter: KafkaMessage, offset: Int64) -> KafkaMessage {
        let record = ReplayRecord.make(from: deadLetter, replayID: "r-1", topic: topics.webhooks)
        return KafkaMessage(topic: record.topic, partition: 0, offset: offset, key: record.key, value: record.value, headers: record.headers)
    }

    func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

/// A whole small history: one event retried then created, one dead-lettered and replayed, one
/// still waiting on a tier, plus an event of another tenant.
func history() -> [KafkaMessage] {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let retried = EventStory("e-retried", project: "P-1", received: t0)
    let first = retried.webhook(offset: 0)
    let tier1 = retried.failure(after: first, attempt: 1, tier: 1, offset: 0, at: t0.addingTimeInterval(1))
    let dead = EventStory("e-dead", project: "P-2", received: t0.addingTimeInterval(2))
    let deadWebhook = dead.webhook(offset: 1)
    let letter = dead.failure(after: deadWebhook, attempt: 1, tier: nil, offset: 0, at: t0.addingTimeInterval(3), errorClass: .forbidden("aurora"))
    let waiting = EventStory("e-waiting", project: "P-3", received: t0.addingTimeInterval(4))
    let waitingWebhook = waiting.webhook(offset: 2)
    let other = EventStory("e-other", tenant: "sunny-roofs", project: "P-9", received: t0.addingTimeInterval(5))
    return [
        first, tier1, deadWebhook, letter, waitingWebhook,
        waiting.failure(after: waitingWebhook, attempt: 1, tier: 1, offset: 1, at: t0.addingTimeInterval(5)),
        retried.outcome(offset: 0, at: t0.addingTimeInterval(40), attempts: 2),
        dead.ledger(for: letter, offset: 0, at: t0.addingTimeInterval(60)),
        dead.replayed(letter, offset: 3),
        dead.outcome(offset: 1, at: t0.addingTimeInterval(62), attempts: 1, title: "Ravi Patel – 3 Elm Rd", email: "ravi@example.org"),
        other.webhook(offset: 0, partition: 1),
        other.outcome(offset: 2, at: t0.addingTimeInterval(6), attempts: 1, title: "Li Wei – 8 Oak Ave", email: "li@example.net"),
    ]
}

func temporaryIndex(rebuild: Bool = true) throws -> IndexStore {
    try IndexStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).sqlite").path, rebuild: rebuild)
}

@Suite("Console index")
struct IndexTests {
    @Test("each record becomes the timeline entries its topic means")
    func entries() {
        let records = history()
        let kinds = records.map { TimelineEntry.entries(of: $0, topics: .default).map(\.kind) }
        #expect(kinds[0] == [.received])
        #expect(kinds[1] == [.attemptFailed, .retryWait])
        #expect(kinds[3] == [.attemptFailed, .deadLetter])
        #expect(kinds[6] == [.outcome])
        #expect(kinds[7] == [.replayed])
        #expect(kinds[8] == [], "a replayed record adds nothing: its ledger entry is the replay")
        let failed = TimelineEntry.entries(of: records[1], topics: .default)[0]
        #expect(failed.worker == "worker-1:7" && failed.durationMs == 250 && failed.attempt == 1 && failed.errorClass == "coperniq.server_error")
        let wait = TimelineEntry.entries(of: records[1], topics: .default)[1]
        #expect(wait.tier == 1 && wait.dueAt == wait.at + 30_000)
        let replay = TimelineEntry.entries(of: records[7], topics: .default)[0]
        #expect(replay.by == "console:ana" && replay.deadLetterKey == "aurora.webhooks.dlq/0/0")
    }

    @Test("an event's summary follows its last entry: retrying, dead letter, replayed, created")
    func summaries() async throws {
        let store = try temporaryIndex()
        let records = history()
        try await store.apply(Array(records[0..<4]), topics: .default)
        #expect(try store.event("e-retried")?.state == "retrying")
        #expect(try store.event("e-dead")?.state == "dead letter")
        #expect(try store.event("e-dead")?.errorClass == "aurora.forbidden")
        try await store.apply(Array(records[4...]), topics: .default)
        let created = try #require(try store.event("e-retried"))
        #expect(created.state == "created" && created.attempts == 2 && created.coperniqProjectID == 4242 && created.latencyMs == 40_000)
        #expect(created.title == "Jane O'Brien – 12 Main St" && created.email == "jane.obrien@example.com")
        #expect(try store.event("e-waiting")?.state == "retrying")
        #expect(try store.timeline("e-dead").map(\.kind) == [.received, .attemptFailed, .deadLetter, .replayed, .outcome])
        let letters = try store.deadLetters()
        #expect(letters.count == 1 && letters[0].replayedBy == "console:ana")
        #expect(try store.deadLetterGroups().isEmpty, "a replayed dead letter waits for nothing")
        let day = Int64(1_800_000_000) / 86_400
        let tenants = try store.tenantDays(day: day)
        #expect(tenants.map(\.tenant) == ["acme-solar", "sunny-roofs"])
        #expect(tenants[0].received == 3 && tenants[0].created == 2 && tenants[0].deadLetters == 1)
        #expect(tenants[0].p50Ms != nil)
    }

    @Test("search finds an event by any of its names, and typed text never reaches FTS5's syntax")
    func search() async throws {
        let store = try temporaryIndex()
        try await store.apply(history(), topics: .default)
        for query in ["e-retried", "P-1", "A-P-1", "4242", "Jane", "o'brien", "obri", "jane.obrien@example.com", "JANE O'BRIEN", "Main St"] {
            #expect(try store.search(query).contains { $0.eventID == "e-retried" }, "searching \(query)")
        }
        #expect(try store.search("sunny-roofs").map(\.eventID) == ["e-other"])
        #expect(try store.search("ravi patel").map(\.eventID) == ["e-dead"])
        for hostile in ["\"", "a AND OR", "*", "NEAR(", "'; DROP TABLE events; --", "-", "é"] {
            _ = try store.search(hostile)
        }
        #expect(try store.search("nobody-here").isEmpty)
        #expect(IndexStore.matchExpression("O'Brien 12") == "\"o\"* \"brien\"* \"12\"*")
    }

    @Test("the index is the same whatever order the topics are read in, and a record read twice counts once")
    func orderAndRedelivery() async throws {
        let records = history()
        let inOrder = try temporaryIndex()
        try await inOrder.apply(records, topics: .default)
        // By topic, outcomes and the ledger before the webhooks (a rebuild reads partitions independently).
        let byTopic = try temporaryIndex()
        for topic in ["coperniq.projects", "aurora.webhooks.dlq.replays", "aurora.webhooks.dlq", "aurora.webhooks.retry.1", "aurora.webhooks"] {
            try await byTopic.apply(records.filter { $0.topic == topic }, topics: .default)
        }
        try await byTopic.apply(Array(records.reversed().prefix(5)), topics: .default)  // read again after a restart
        #expect(try inOrder.dump() == byTopic.dump())
    }
}
