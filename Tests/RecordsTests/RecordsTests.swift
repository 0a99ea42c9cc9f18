import Bridge
import Foundation
import HTTPAPI
import Instrumentation
import Kafka
import Records
import Testing
import TestSupport

/// The wire contract, pinned: every record type is written by its writer, read back by its reader,
/// and its bytes compared with a fixture in `Fixtures/`. A change to a record is a diff of a
/// fixture; `RECORDS_FIXTURES=update swift test --filter RecordsTests` rewrites them.
@Suite("The wire contract")
struct RecordsTests {
    static let receivedAt = Date(timeIntervalSince1970: 1_795_936_000.125)
    static let trace = RecordTrace(TraceParent(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7", flags: "01"))
    static let envelope = WebhookEnvelope(
        id: "7d0a6f0e-3c1b-4a8e-9f55-2b9b1c0d4e11", tenant: "acme-solar",
        params: ["project_id": "p-1", "agreement_id": "a-1", "status": "signed", "design_id": "d-1", "note": "quote \" and \\ and ü"],
        receivedAt: receivedAt, source: .init(remoteAddress: "203.0.113.9", userAgent: "Aurora-Webhooks/1.0"))

    /// The webhook record as the worker reads it from `aurora.webhooks`.
    static func webhookMessage(partition: Int32 = 3, offset: Int64 = 41) -> KafkaMessage {
        let record = WebhookRecord.make(envelope, trace: trace)
        return KafkaMessage(topic: record.topic, partition: partition, offset: offset, key: record.key, value: record.value, headers: record.headers)
    }

    static func message(_ record: KafkaRecord, partition: Int32, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: record.topic, partition: partition, offset: offset, key: record.key, value: record.value, headers: record.headers)
    }

    @Test("the webhook record: the envelope, keyed by tenant and project, with event id, tenant and trace")
    func webhookRecord() throws {
        let record = WebhookRecord.make(Self.envelope, trace: Self.trace)
        try Fixture.check("webhook", record)
        #expect(try WebhookEnvelope.decode(record.value) == Self.envelope)
        #expect(record.headers.text(RecordHeader.eventID) == Self.envelope.id)
        #expect(record.headers.text(RecordHeader.tenant) == "acme-solar")
        #expect(record.headers.text(RecordHeader.traceparent).flatMap(TraceParent.init(header:)) == Self.trace.parent)
        // The hand-written writer and reader agree with Codable's shape.
        #expect(try WebhookEnvelope.decode(WebhookEnvelope.referenceEncoder.encode(Self.envelope)) == Self.envelope)
        #expect(try WebhookEnvelope.referenceDecoder.decode(WebhookEnvelope.self, from: Data(record.value)) == Self.envelope)
    }

    @Test("a retry tier record, then a dead letter: the failure headers written and read back")
    func failureRecords() throws {
        let firstFailure = Self.receivedAt.addingTimeInterval(2)
        let retry = FailureHeaders.after(Self.webhookMessage(), errorClass: .serverError("aurora"), errorMessage: "Service\nUnavailable",
                                         attempts: 1, consumerGroup: "aurora-bridge-worker",
                                         nextAttemptAt: firstFailure.addingTimeInterval(30), now: firstFailure)
        let retryRecord = KafkaRecord(topic: Topics.default.retryTier(1), key: Self.webhookMessage().key, value: Self.webhookMessage().value,
                                      headers: retry.headers(eventID: nil, tenant: nil, trace: Self.trace, carrying: Self.webhookMessage().headers))
        try Fixture.check("retry-tier", retryRecord)
        let retryMessage = Self.message(retryRecord, partition: 3, offset: 7)
        #expect(FailureHeaders(retryMessage) == retry)
        #expect(retry.attempt == 1 && retry.errorMessage == "Service Unavailable" && retry.sourceOffset == 41)
        #expect(FailureHeaders.nextAttemptAt(retryMessage) == firstFailure.addingTimeInterval(30))
        #expect(FailureHeaders.attempts(of: retryMessage) == 1 && FailureHeaders.attempts(of: Self.webhookMessage()) == 0)

        // Due: back to the webhooks topic, `retried-from` naming the tier, the due time spent.
        let due = KafkaRecord(topic: Topics.default.webhooks, key: retryMessage.key, value: retryMessage.value,
                              headers: FailureHeaders.dueRetryHeaders(retryMessage))
        try Fixture.check("due-retry", due)
        let dueMessage = Self.message(due, partition: 3, offset: 90)
        #expect(FailureHeaders.nextAttemptAt(dueMessage) == nil)

        // It fails for good: the history carries both attempts, the source stays the first record.
        let secondFailure = firstFailure.addingTimeInterval(31)
        let dead = FailureHeaders.after(dueMessage, errorClass: .unprocessable("coperniq"), errorMessage: "title is required",
                                        attempts: 2, consumerGroup: "aurora-bridge-worker", nextAttemptAt: nil, now: secondFailure)
        let deadRecord = KafkaRecord(topic: Topics.default.deadLetter, key: dueMessage.key, value: dueMessage.value,
                                     headers: dead.headers(eventID: Self.envelope.id, tenant: Self.envelope.tenant, trace: Self.trace,
                                                           carrying: dueMessage.headers))
        try Fixture.check("dead-letter", deadRecord)
        let read = try #require(FailureHeaders(Self.message(deadRecord, partition: 0, offset: 5)))
        #expect(read == dead)
        #expect(read.history.map(\.topic) == [Topics.default.webhooks, Topics.default.retryTier(1)])
        #expect(read.history.map(\.class) == ["aurora.server_error", "coperniq.unprocessable"])
        #expect(read.firstFailedAt == firstFailure && read.sourceTopic == Topics.default.webhooks && read.sourcePartition == 3)

        // A budget wait is not a failed attempt: the count and the history stay.
        let wait = FailureHeaders.after(retryMessage, errorClass: .throttled("aurora"), errorMessage: "wait", attempts: 2,
                                        consumerGroup: "g", nextAttemptAt: secondFailure, now: secondFailure)
        #expect(wait.attempt == 1 && wait.history == retry.history)
    }

    @Test("a retry record carries the event's progress; the next attempt reads it, an unreadable one reads as none")
    func progressHeader() throws {
        var progress = EventProgress(coperniqProjectID: 812, created: true, title: "Jane Doe – 12 Main St",
                                     steps: [StepReport(.project, .done, "created"), StepReport(.lineItems, .done, "3 item(s)")],
                                     jobs: ["signedAgreement": "job-1"])
        progress.interrupted = .signedAgreement
        let retry = FailureHeaders.after(Self.webhookMessage(), errorClass: .documentPending, errorMessage: "still running", attempts: 1,
                                         consumerGroup: "aurora-bridge-worker", nextAttemptAt: Self.receivedAt, now: Self.receivedAt,
                                         progress: progress)
        let record = KafkaRecord(topic: Topics.default.retryTier(1), key: nil, value: [],
                                 headers: retry.headers(eventID: "e-1", tenant: "acme-solar", trace: Self.trace, carrying: []))
        try Fixture.check("retry-tier-progress", record)
        let message = Self.message(record, partition: 0, offset: 1)
        #expect(FailureHeaders.progress(message.headers) == progress)
        #expect(FailureHeaders(message)?.progress == progress)
        // A due retry keeps it on its way back to the webhooks topic; a later failure writes its own.
        let due = Self.message(KafkaRecord(topic: Topics.default.webhooks, key: nil, value: [], headers: FailureHeaders.dueRetryHeaders(message)),
                               partition: 0, offset: 2)
        #expect(FailureHeaders.progress(due.headers) == progress)
        let next = FailureHeaders.after(due, errorClass: .serverError("coperniq"), errorMessage: "503", attempts: 2, consumerGroup: "g",
                                        nextAttemptAt: nil, now: Self.receivedAt)
        #expect(next.headers(eventID: nil, tenant: nil, trace: Self.trace, carrying: due.headers).text(RecordHeader.progress) == nil)
        #expect(FailureHeaders.progress([KafkaHeader(RecordHeader.progress, "{not json")]) == nil)
    }

    @Test("a retry record carries what its attempt read (not a dead letter), for 15 minutes, within a size limit")
    func carriedReads() throws {
        let url = "http://aurora.test/tenants/t/projects/p-1"
        let answers = [url: Data(#"{"project":{"id":"p-1","name":"Ada"}}"#.utf8), "http://aurora.test/tenants/t/users/u-1": Data(#"{"user":{"id":"u-1"}}"#.utf8)]
        let reads = CarriedReads(at: Self.receivedAt, answers: answers)
        let header = try #require(reads.header)
        #expect(header.key == RecordHeader.reads)
        let back = try #require(CarriedReads([header]))
        #expect(back.at == Date(timeIntervalSince1970: 1_795_936_000.125))
        #expect(try back.answers.mapValues { try JSONParser.parse($0) } == answers.mapValues { try JSONParser.parse($0) })
        #expect(back.fresh(now: Self.receivedAt.addingTimeInterval(14 * 60)).count == 2)
        #expect(back.fresh(now: Self.receivedAt.addingTimeInterval(16 * 60)).isEmpty)
        #expect(CarriedReads(at: Self.receivedAt, answers: [:]).header == nil)
        #expect(CarriedReads(at: Self.receivedAt, answers: [url: Data("not json".utf8)]).header == nil)
        let huge = Data(("\"" + String(repeating: "x", count: CarriedReads.maxBytes) + "\"").utf8)
        #expect(CarriedReads(at: Self.receivedAt, answers: [url: huge]).header == nil)
        #expect(CarriedReads([KafkaHeader(RecordHeader.reads, "{not json")]) == nil)

        // A failure record built from a record that carried reads does not pass them on by itself.
        let message = Self.message(KafkaRecord(topic: Topics.default.webhooks, key: nil, value: [], headers: [header]), partition: 0, offset: 1)
        let failure = FailureHeaders.after(message, errorClass: .serverError("coperniq"), errorMessage: "503", attempts: 1, consumerGroup: "g",
                                           nextAttemptAt: nil, now: Self.receivedAt)
        #expect(failure.headers(eventID: nil, tenant: nil, trace: Self.trace, carrying: message.headers).text(RecordHeader.reads) == nil)
    }

    @Test("the outcome record: written in version 2, version 1 still read")
    func outcomeRecord() throws {
        let link = ProjectLink(tenant: "acme-solar", auroraProjectID: "p-1", coperniqProjectID: 812, title: "Jane Doe – 12 Main St")
        let created = try #require(OutcomeRecord(envelope: Self.envelope, outcome: .created(link), attempts: 2,
                                                 startedAt: Self.receivedAt.addingTimeInterval(1.2),
                                                 processedAt: Self.receivedAt.addingTimeInterval(1.5)))
        #expect(created.startedAt == "2026-11-29T07:06:41.325Z")
        try Fixture.check("outcome-created", KafkaRecord(topic: Topics.default.outcomes, key: nil, value: created.encoded()))
        #expect(try OutcomeRecord.decode(created.encoded()) == created)
        let skipped = try #require(OutcomeRecord(envelope: Self.envelope, outcome: .skipped(reason: "status 'viewed' is not processed"),
                                                 attempts: 1, processedAt: Self.receivedAt))
        try Fixture.check("outcome-skipped", KafkaRecord(topic: Topics.default.outcomes, key: nil, value: skipped.encoded()))
        #expect(try OutcomeRecord.decode(skipped.encoded()) == skipped)
        #expect(OutcomeRecord(envelope: Self.envelope, outcome: .retry(ProcessingFailure(.internal, "y")), attempts: 1, processedAt: Self.receivedAt) == nil)

        let version1 = #"{"attempts":1,"auroraProjectID":"p-1","coperniqProjectID":9,"eventID":"e-1","outcome":"updated","processedAt":"2026-01-01T00:00:01.000Z","receivedAt":"2026-01-01T00:00:00.000Z","tenant":"t","v":1}"#
        let old = try OutcomeRecord.decode(Array(version1.utf8))
        #expect(old.v == 1 && old.eventID == "e-1" && old.auroraProjectID == "p-1" && old.coperniqProjectID == 9 && old.outcome == .updated)
    }

    @Test("the hand-written outcome record is the bytes JSONEncoder writes with sorted keys, with and without its optional fields")
    func outcomeRecordIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let full = OutcomeRecord(eventID: "e-1", tenant: "acme-solar", outcome: .created, auroraProjectID: "p/1", agreementID: "a-1",
                                 status: "signed", coperniqProjectID: 42, title: "Ada \"Solar\" Lovelace\n☀️", reason: nil,
                                 receivedAt: "2026-11-27T04:45:03.123Z", processedAt: "2026-11-27T04:45:04.001Z", attempts: 2)
        let bare = OutcomeRecord(eventID: "e-2", tenant: "t", outcome: .skipped, auroraProjectID: nil, agreementID: nil,
                                 status: nil, reason: "status viewed is not processed", receivedAt: "r", processedAt: "p", attempts: 1)
        var extras = full
        extras.steps = [StepReport(.project, .done, "created"), StepReport(.lineItems, .done, "3 item(s)"), StepReport(.dealNote, .done),
                        StepReport(.signedAgreement, .warning, "Aurora has no signed document for agreement a-1")]
        extras.calls = ["aurora GET agreement": 1, "coperniq search projects": 1, "aurora GET web proposal": 1]
        extras.startedAt = "2026-11-27T04:45:03.880Z"
        for record in [full, bare, extras] {
            #expect(try object(Data(record.encoded())) == object(encoder.encode(record)))
            #expect(try OutcomeRecord.decode(record.encoded()) == record)
        }
        #expect(String(decoding: bare.encoded(), as: UTF8.self) == String(decoding: try encoder.encode(bare), as: UTF8.self))
    }

    private func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test("a replayed dead letter and its ledger entry")
    func replay() throws {
        let deadLetter = try Self.deadLetterMessage()
        let replayed = ReplayRecord.make(from: deadLetter, replayID: "r-20261130-1", topic: Topics.default.webhooks,
                                         trace: TraceParent(traceID: Self.trace.parent.traceID, spanID: "b7ad6b7169203331"))
        try Fixture.check("replayed", replayed)
        let mark = try #require(ReplayMark(Self.message(replayed, partition: 3, offset: 120)))
        #expect(mark == ReplayMark(replayedFrom: "aurora.webhooks.dlq/0/5", replayID: "r-20261130-1"))
        #expect(FailureHeaders(headers: replayed.headers) == nil)
        #expect(try WebhookEnvelope.decode(replayed.value) == Self.envelope)

        let entry = ReplayLedgerEntry(replayID: "r-20261130-1", at: "2026-11-30T05:00:00.000Z", eventID: Self.envelope.id)
        let ledgerRecord = entry.record(for: deadLetter, topic: Topics.default.replayLedger)
        try Fixture.check("replay-ledger", ledgerRecord)
        let read = try #require(ReplayLedgerEntry.read(Self.message(ledgerRecord, partition: 0, offset: 0), deadLetterTopic: "unused"))
        #expect(read.key == "aurora.webhooks.dlq/0/5" && read.entry == entry)
        // Entries from before: the key without its topic, the ids spelled `replayID`, `eventID`.
        let old = KafkaMessage(topic: "aurora.webhooks.dlq.replays", partition: 0, offset: 1, key: Array("0/5".utf8),
                               value: Array(#"{"at":"2026-01-01T00:00:00Z","eventID":"e","replayID":"r"}"#.utf8))
        let oldRead = try #require(ReplayLedgerEntry.read(old, deadLetterTopic: "aurora.webhooks.dlq"))
        #expect(oldRead.key == "aurora.webhooks.dlq/0/5" && oldRead.entry == ReplayLedgerEntry(replayID: "r", at: "2026-01-01T00:00:00Z", eventID: "e"))
        // A tombstone has a key and no entry.
        let tombstone = KafkaMessage(topic: "aurora.webhooks.dlq.replays", partition: 0, offset: 2, key: Array("aurora.webhooks.dlq/0/5".utf8), value: [])
        #expect(ReplayLedgerEntry.read(tombstone, deadLetterTopic: "x")?.entry == nil)
    }

    @Test("trace context: a valid parent's trace and flags are kept, anything else starts a sampled trace")
    func traceContext() {
        let unsampled = TraceParent.continuing("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        #expect(unsampled.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && unsampled.flags == "00" && unsampled.spanID != "00f067aa0ba902b7")
        #expect(TraceParent(header: unsampled.description) == unsampled)
        for invalid in ["", "00-zzzz-1-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"] {
            #expect(TraceParent(header: invalid) == nil, "\(invalid)")
            let fresh = TraceParent.continuing(invalid)
            #expect(fresh.flags == "01" && fresh.traceID.count == 32 && fresh.traceID != "4bf92f3577b34da6a3ce929d0e0e4736")
        }
    }

    @Test("a record's trace: with no tracer, a new span in the upstream's trace; a tracer's headers replace the ones a retried record had")
    func recordTrace() {
        let upstream = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        let untraced = RecordTrace.inject(.topLevel, using: NoOpInstrument(), continuing: upstream)
        #expect(untraced.parent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && untraced.parent.flags == "00" && untraced.propagated.isEmpty)
        #expect(RecordTrace.extract([KafkaHeader("traceparent", upstream)], using: NoOpInstrument()).isEmpty)

        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let gateway = RecordTrace(TraceParent(traceID: traceID, spanID: "1111111111111111"), propagated: [KafkaHeader("tracestate", "old=1")])
        let record = WebhookRecord.make(Self.envelope, trace: gateway)
        #expect(record.headers.map(\.key) == ["event-id", "tenant", "traceparent", "tracestate"])
        let attempt = RecordTrace(TraceParent(traceID: traceID, spanID: "2222222222222222"), propagated: [KafkaHeader("tracestate", "new=2")])
        let message = Self.message(record, partition: 0, offset: 1)
        let failure = FailureHeaders.after(message, errorClass: .serverError("aurora"), errorMessage: "down", attempts: 1,
                                           consumerGroup: "g", nextAttemptAt: nil, now: Self.receivedAt)
        let headers = failure.headers(eventID: nil, tenant: nil, trace: attempt, carrying: message.headers)
        #expect(headers.filter { $0.key == "traceparent" }.map(\.text) == ["00-\(traceID)-2222222222222222-01"])
        #expect(headers.filter { $0.key == "tracestate" }.map(\.text) == ["new=2"])
    }

    @Test("topics: the defaults and the tiers")
    func topics() {
        #expect(Topics.default.all(tiers: 2) == ["aurora.webhooks", "aurora.webhooks.retry.1", "aurora.webhooks.retry.2",
                                                 "aurora.webhooks.dlq", "coperniq.projects", "aurora.webhooks.dlq.replays"])
        #expect(Topics(webhooks: "w").retryTiers(0).isEmpty)
    }

    /// The dead letter of `failureRecords()`: a 503, a retry, then a 422.
    static func deadLetterMessage() throws -> KafkaMessage {
        let firstFailure = receivedAt.addingTimeInterval(2)
        let retry = FailureHeaders.after(webhookMessage(), errorClass: .serverError("aurora"), errorMessage: "Service Unavailable", attempts: 1,
                                         consumerGroup: "aurora-bridge-worker", nextAttemptAt: firstFailure.addingTimeInterval(30), now: firstFailure)
        let retryMessage = message(KafkaRecord(topic: Topics.default.retryTier(1), key: webhookMessage().key, value: webhookMessage().value,
                                               headers: retry.headers(eventID: nil, tenant: nil, trace: trace, carrying: webhookMessage().headers)),
                                   partition: 3, offset: 7)
        let dueMessage = message(KafkaRecord(topic: Topics.default.webhooks, key: retryMessage.key, value: retryMessage.value,
                                             headers: FailureHeaders.dueRetryHeaders(retryMessage)), partition: 3, offset: 90)
        let dead = FailureHeaders.after(dueMessage, errorClass: .unprocessable("coperniq"), errorMessage: "title is required", attempts: 2,
                                        consumerGroup: "aurora-bridge-worker", nextAttemptAt: nil, now: firstFailure.addingTimeInterval(31))
        return message(KafkaRecord(topic: Topics.default.deadLetter, key: dueMessage.key, value: dueMessage.value,
                                   headers: dead.headers(eventID: envelope.id, tenant: envelope.tenant, trace: trace, carrying: dueMessage.headers)),
                       partition: 0, offset: 5)
    }
}

/// A record rendered as text, one line each for the topic, the key, every header in order and the
/// value, compared with `Fixtures/<name>.record`.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func render(_ record: KafkaRecord) -> String {
        var lines = ["topic \(record.topic)"]
        if let key = record.key { lines.append("key \(String(decoding: key, as: UTF8.self))") }
        for header in record.headers { lines.append("header \(header.key): \(header.text ?? "<null>")") }
        lines.append("value \(String(decoding: record.value, as: UTF8.self))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("\(name).record"), encoding: .utf8)
    }

    static func check(_ name: String, _ record: KafkaRecord, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let rendered = render(record)
        if ProcessInfo.processInfo.environment["RECORDS_FIXTURES"] == "update" {
            try rendered.write(to: directory.appendingPathComponent("\(name).record"), atomically: true, encoding: .utf8)
            return
        }
        let pinned = try read(name)
        #expect(rendered == pinned, "the \(name) record changed; if on purpose, rewrite the fixtures (RECORDS_FIXTURES=update)",
                sourceLocation: sourceLocation)
    }
}
