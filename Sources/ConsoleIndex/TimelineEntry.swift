import Bridge
import Foundation
import HTTPAPI
import Kafka
import Records

/// One thing that happened to an event, as the console's timeline shows it: read from one record
/// of the pipeline's topics (a record may give two: a failed attempt and its retry wait).
public struct TimelineEntry: Sendable, Equatable, Codable {
    /// What happened, in the order one event's entries happen at the same instant.
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        /// The gateway accepted the webhook (200) and published it.
        case received
        /// An attempt failed: its error class and message, the worker, how long it took.
        case attemptFailed = "attempt-failed"
        /// The event waits on a retry tier until it is due.
        case retryWait = "retry-wait"
        /// No retry left, or a permanent error: the event is a dead letter.
        case deadLetter = "dead-letter"
        /// An operator replayed the dead letter (the replay ledger: who, when).
        case replayed
        /// The event finished: created, updated or skipped.
        case outcome

        public static func < (lhs: Kind, rhs: Kind) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
    }

    public var eventID: String
    public var kind: Kind
    /// When, in milliseconds since 1970.
    public var at: Int64
    /// Where it was read: topic, partition, offset, and its number among the record's entries.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var sequence: Int
    public var tenant: String?
    public var auroraProjectID: String?
    public var agreementID: String?
    public var status: String?
    /// The W3C trace id the record carries.
    public var traceID: String?
    public var errorClass: String?
    public var message: String?
    public var worker: String?
    /// An attempt's duration in milliseconds.
    public var durationMs: Int?
    public var attempt: Int?
    /// The retry tier waited on, and until when (ms since 1970).
    public var tier: Int?
    public var dueAt: Int64?
    public var outcome: String?
    public var coperniqProjectID: Int?
    public var title: String?
    public var email: String?
    /// An outcome's steps as text (`lineItems done`, `signedAgreement warning: …`).
    public var steps: [String]?
    /// The replay: its id, who (`console:<operator>`, `cli:<user>`), and the dead letter's key.
    public var replayID: String?
    public var by: String?
    public var deadLetterKey: String?
    /// An outcome's latency from the gateway's receipt, ms.
    public var latencyMs: Int?

    public init(eventID: String, kind: Kind, at: Int64, topic: String, partition: Int32, offset: Int64, sequence: Int = 0) {
        self.eventID = eventID
        self.kind = kind
        self.at = at
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.sequence = sequence
    }
}

/// Which of the pipeline's topics a record came from.
public enum TopicRole: Sendable, Equatable {
    case webhooks
    case retryTier(Int)
    case deadLetter
    case outcomes
    case replayLedger

    /// The role of `topic` in `topics`; nil for a topic the console does not follow.
    public init?(_ topic: String, topics: Topics) {
        switch topic {
        case topics.webhooks: self = .webhooks
        case topics.deadLetter: self = .deadLetter
        case topics.outcomes: self = .outcomes
        case topics.replayLedger: self = .replayLedger
        default:
            let prefix = topics.webhooks + ".retry."
            guard topic.hasPrefix(prefix), let tier = Int(topic.dropFirst(prefix.count)), tier > 0 else { return nil }
            self = .retryTier(tier)
        }
    }
}

extension TimelineEntry {
    /// The entries of one record of `topics` (none for a record that adds nothing: a due retry
    /// sent back to the webhooks topic, a replayed record whose ledger entry says it all, an
    /// unreadable value without an event id).
    public static func entries(of record: KafkaMessage, topics: Topics) -> [TimelineEntry] {
        guard let role = TopicRole(record.topic, topics: topics) else { return [] }
        let recordTime = record.timestampMilliseconds ?? 0
        func entry(_ eventID: String, _ kind: Kind, at: Int64, sequence: Int = 0) -> TimelineEntry {
            var entry = TimelineEntry(eventID: eventID, kind: kind, at: at, topic: record.topic, partition: record.partition,
                                      offset: record.offset, sequence: sequence)
            entry.tenant = record.headers.text(RecordHeader.tenant)
            entry.traceID = TraceParent(header: record.headers.text(RecordHeader.traceparent) ?? "")?.traceID
            return entry
        }
        switch role {
        case .replayLedger:
            guard let (key, value) = ReplayLedgerEntry.read(record, deadLetterTopic: topics.deadLetter), let value else { return [] }
            var replay = entry(value.eventID, .replayed, at: milliseconds(value.at) ?? recordTime)
            replay.replayID = value.replayID
            replay.by = value.by
            replay.deadLetterKey = key
            return [replay]
        case .outcomes:
            guard let value = try? OutcomeRecord.decode(record.value) else { return [] }
            var done = entry(value.eventID, .outcome, at: milliseconds(value.processedAt) ?? recordTime)
            done.tenant = value.tenant
            done.auroraProjectID = value.auroraProjectID
            done.agreementID = value.agreementID
            done.status = value.status
            done.outcome = value.outcome.rawValue
            done.coperniqProjectID = value.coperniqProjectID
            done.title = value.title
            done.email = value.email
            done.message = value.reason
            done.worker = value.worker
            done.attempt = value.attempts
            done.steps = value.steps?.map(\.description)
            if let started = value.startedAt.flatMap(milliseconds) { done.durationMs = Int(done.at - started) }
            if let received = milliseconds(value.receivedAt) { done.latencyMs = Int(max(0, done.at - received)) }
            return [done]
        case .webhooks, .retryTier, .deadLetter:
            let envelope = try? WebhookEnvelope.decode(record.value)
            guard let eventID = record.headers.text(RecordHeader.eventID) ?? envelope?.id else { return [] }
            func described(_ value: TimelineEntry) -> TimelineEntry {
                var value = value
                value.tenant = value.tenant ?? envelope?.tenant
                value.auroraProjectID = envelope?.projectID
                value.agreementID = envelope?.agreementID
                value.status = envelope?.status
                return value
            }
            if role == .webhooks {
                // A due retry and a replay come back here; their own entries are on the tier and in the ledger.
                guard record.headers.text(RecordHeader.retriedFrom) == nil, ReplayMark(record) == nil else { return [] }
                return [described(entry(eventID, .received, at: envelope.map { Int64(($0.receivedAt.timeIntervalSince1970 * 1000).rounded()) } ?? recordTime))]
            }
            guard let failure = FailureHeaders(headers: record.headers) else { return [] }
            var result: [TimelineEntry] = []
            if let last = failure.history.last, last.attempt == failure.attempt {
                var failed = described(entry(eventID, .attemptFailed, at: milliseconds(last.at) ?? recordTime))
                failed.attempt = last.attempt
                failed.errorClass = last.class
                failed.message = last.message
                failed.worker = last.worker
                failed.durationMs = last.ms
                result.append(failed)
            }
            var after = described(entry(eventID, role == .deadLetter ? .deadLetter : .retryWait, at: recordTime, sequence: 1))
            after.errorClass = failure.errorClass
            after.message = failure.errorMessage
            after.attempt = failure.attempt
            if case .retryTier(let tier) = role {
                after.tier = tier
                after.dueAt = failure.nextAttemptAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
            } else {
                after.deadLetterKey = ReplayLedgerEntry.key(of: record)
            }
            return result + [after]
        }
    }

    /// An ISO 8601 text as milliseconds since 1970.
    static func milliseconds(_ text: String) -> Int64? {
        RecordTimestamp.parse(text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}
