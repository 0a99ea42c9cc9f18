import AuroraAPI
import Bridge
import Foundation
import HTTPAPI
import Kafka

/// Header names of DESIGN.md's contract: text values, the source named explicitly.
public enum WorkerHeader {
    public static let eventID = "event-id"
    public static let tenant = "tenant"
    public static let traceparent = "traceparent"
    /// How many attempts have failed (1 on the first retry tier record).
    public static let attempt = "attempt"
    /// Where the event was first read: the `aurora.webhooks` record, carried through every tier.
    public static let sourceTopic = "source-topic"
    public static let sourcePartition = "source-partition"
    public static let sourceOffset = "source-offset"
    public static let consumerGroup = "consumer-group"
    public static let errorClass = "error-class"
    public static let errorMessage = "error-message"
    public static let firstFailedAt = "first-failed-at"
    /// When a retry record is due (absent on dead letters).
    public static let nextAttemptAt = "next-attempt-at"
    /// On a retry sent back to the webhooks topic when due: the tier it waited on (the attempt's
    /// `topic` in `error-history`).
    public static let retriedFrom = "retried-from"
    /// Every failed attempt so far, as a JSON array of `{attempt, at, topic, class, message}`.
    public static let errorHistory = "error-history"
    /// The headers a failure record sets; none of them is carried over from the record that failed.
    public static let failureHeaders: Set<String> = [
        attempt, sourceTopic, sourcePartition, sourceOffset, consumerGroup, errorClass, errorMessage, firstFailedAt,
        nextAttemptAt, errorHistory, retriedFrom,
    ]
}

/// Timestamps in headers and outcome records: ISO 8601 with milliseconds, UTC.
enum Timestamp {
    static func text(_ date: Date) -> String {
        var out = JSONBytes(capacity: 24)
        out.timestamp(date)
        return String(decoding: out.bytes, as: UTF8.self)
    }
    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        return AuroraTimestamp.iso8601(text)
    }
}

/// One failed attempt, as kept in the `error-history` header.
public struct FailedAttempt: Sendable, Codable, Equatable {
    public var attempt: Int
    public var at: String
    public var topic: String
    public var `class`: String
    public var message: String
}

/// Builds the records a worker writes for an event it read from `message`.
struct RecordFactory: Sendable {
    let topics: WorkerTopics
    let groupID: String
    /// Longest `error-message` header kept.
    static let maxMessageLength = 500
    /// Attempts kept in `error-history`.
    static let maxHistory = 10

    /// Error text on one line (an HTML error page becomes one line of text).
    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// A retry tier or dead-letter record: the original key and value, the trace continued, and
    /// the failure headers. `attempts` counts the attempts including this one; a budget wait
    /// (``ProcessingFailure/budgetWait``) is not a failed attempt, so it is not counted and not in
    /// the history.
    func failureRecord(for message: KafkaMessage, failure: ProcessingFailure, attempts: Int, destination: String,
                       nextAttemptAt: Date?, trace: TraceParent, eventID: String?, tenant: String?, now: Date) -> KafkaRecord {
        let old = message.headers
        let sourceTopic = old.text(WorkerHeader.sourceTopic) ?? message.topic
        let sourcePartition = old.text(WorkerHeader.sourcePartition) ?? String(message.partition)
        let sourceOffset = old.text(WorkerHeader.sourceOffset) ?? String(message.offset)
        let errorMessage = String(Self.singleLine(failure.message).prefix(Self.maxMessageLength))
        var history = (old.text(WorkerHeader.errorHistory)?.data(using: .utf8))
            .flatMap { try? JSONDecoder().decode([FailedAttempt].self, from: $0) } ?? []
        let failedAttempts = failure.budgetWait ? attempts - 1 : attempts
        if !failure.budgetWait {
            history.append(FailedAttempt(attempt: attempts, at: Timestamp.text(now), topic: old.text(WorkerHeader.retriedFrom) ?? message.topic,
                                         class: failure.errorClass, message: errorMessage))
        }
        let historyText = (try? JSONEncoder().encode(Array(history.suffix(Self.maxHistory))))
            .map { String(decoding: $0, as: UTF8.self) } ?? "[]"

        var headers: [KafkaHeader] = []
        if let eventID = eventID ?? old.text(WorkerHeader.eventID) { headers.append(KafkaHeader(WorkerHeader.eventID, eventID)) }
        if let tenant = tenant ?? old.text(WorkerHeader.tenant) { headers.append(KafkaHeader(WorkerHeader.tenant, tenant)) }
        headers += [
            KafkaHeader(WorkerHeader.traceparent, trace.description),
            KafkaHeader(WorkerHeader.attempt, String(failedAttempts)),
            KafkaHeader(WorkerHeader.sourceTopic, sourceTopic),
            KafkaHeader(WorkerHeader.sourcePartition, sourcePartition),
            KafkaHeader(WorkerHeader.sourceOffset, sourceOffset),
            KafkaHeader(WorkerHeader.consumerGroup, groupID),
            KafkaHeader(WorkerHeader.errorClass, failure.errorClass),
            KafkaHeader(WorkerHeader.errorMessage, errorMessage),
            KafkaHeader(WorkerHeader.firstFailedAt, old.text(WorkerHeader.firstFailedAt) ?? Timestamp.text(now)),
            KafkaHeader(WorkerHeader.errorHistory, historyText),
        ]
        if let nextAttemptAt { headers.append(KafkaHeader(WorkerHeader.nextAttemptAt, Timestamp.text(nextAttemptAt))) }
        // Headers the gateway or an operator added (e.g. replay markers) travel along.
        let replaced = Set(headers.map(\.key)).union(WorkerHeader.failureHeaders)
        headers += old.filter { !replaced.contains($0.key) }
        return KafkaRecord(topic: destination, key: message.key, value: message.value, headers: headers)
    }

    /// A due retry tier record, sent back to the webhooks topic to be attempted there: every attempt
    /// of a key then runs on the one worker that owns the key's webhooks partition, in key order with
    /// its fresh events. Key, value and headers travel as they are (the attempt count and error
    /// history go on), except the due time, which is spent; `retried-from` names the tier.
    func dueRetryRecord(for message: KafkaMessage) -> KafkaRecord {
        KafkaRecord(topic: topics.webhooks, key: message.key, value: message.value,
                    headers: message.headers.filter { $0.key != WorkerHeader.nextAttemptAt && $0.key != WorkerHeader.retriedFrom }
                        + [KafkaHeader(WorkerHeader.retriedFrom, message.topic)])
    }

    /// The `coperniq.projects` record of a finished event.
    func outcomeRecord(for message: KafkaMessage, envelope: WebhookEnvelope, outcome: EventOutcome, attempts: Int,
                       trace: TraceParent, now: Date) -> KafkaRecord {
        var value = OutcomeRecord(eventID: envelope.id, tenant: envelope.tenant, outcome: outcome.label,
                                  auroraProjectID: envelope.projectID, agreementID: envelope.agreementID,
                                  status: envelope.status, receivedAt: Timestamp.text(envelope.receivedAt),
                                  processedAt: Timestamp.text(now), attempts: attempts)
        switch outcome {
        case .created(let link), .updated(let link):
            value.coperniqProjectID = link.coperniqProjectID
            value.title = link.title
        case .skipped(let reason):
            value.reason = reason
        case .retry, .deadLetter:
            break
        }
        let headers = [KafkaHeader(WorkerHeader.eventID, envelope.id), KafkaHeader(WorkerHeader.tenant, envelope.tenant),
                       KafkaHeader(WorkerHeader.traceparent, trace.description)]
        return KafkaRecord(topic: topics.outcomes, key: message.key, value: Array(value.encoded()), headers: headers)
    }
}

/// The value of a `coperniq.projects` record: what became of one webhook event.
public struct OutcomeRecord: Sendable, Codable, Equatable {
    public var v = 1
    public var eventID: String
    public var tenant: String
    /// `created`, `updated` or `skipped`.
    public var outcome: String
    public var auroraProjectID: String?
    public var agreementID: String?
    public var status: String?
    public var coperniqProjectID: Int?
    public var title: String?
    /// Why nothing was done (skipped events).
    public var reason: String?
    public var receivedAt: String
    public var processedAt: String
    /// Attempts it took, 1 when the first one succeeded.
    public var attempts: Int

    public init(eventID: String, tenant: String, outcome: String, auroraProjectID: String?, agreementID: String?,
                status: String?, coperniqProjectID: Int? = nil, title: String? = nil, reason: String? = nil,
                receivedAt: String, processedAt: String, attempts: Int) {
        self.eventID = eventID
        self.tenant = tenant
        self.outcome = outcome
        self.auroraProjectID = auroraProjectID
        self.agreementID = agreementID
        self.status = status
        self.coperniqProjectID = coperniqProjectID
        self.title = title
        self.reason = reason
        self.receivedAt = receivedAt
        self.processedAt = processedAt
        self.attempts = attempts
    }

    /// Compact JSON with sorted keys and absent fields left out (what `JSONEncoder` with
    /// `.sortedKeys` writes), by hand: one per event.
    public func encoded() -> Data {
        var out = JSONBytes(capacity: 384)
        out.raw("{")
        if let agreementID { out.raw("\"agreementID\":"); out.string(agreementID); out.raw(",") }
        out.raw("\"attempts\":"); out.integer(attempts)
        if let auroraProjectID { out.raw(",\"auroraProjectID\":"); out.string(auroraProjectID) }
        if let coperniqProjectID { out.raw(",\"coperniqProjectID\":"); out.integer(coperniqProjectID) }
        out.raw(",\"eventID\":"); out.string(eventID)
        out.raw(",\"outcome\":"); out.string(outcome)
        out.raw(",\"processedAt\":"); out.string(processedAt)
        if let reason { out.raw(",\"reason\":"); out.string(reason) }
        out.raw(",\"receivedAt\":"); out.string(receivedAt)
        if let status { out.raw(",\"status\":"); out.string(status) }
        out.raw(",\"tenant\":"); out.string(tenant)
        if let title { out.raw(",\"title\":"); out.string(title) }
        out.raw(",\"v\":"); out.integer(v)
        out.raw("}")
        return Data(out.bytes)
    }

    public static func decode(_ bytes: [UInt8]) throws -> OutcomeRecord {
        try JSONDecoder().decode(OutcomeRecord.self, from: Data(bytes))
    }
}
