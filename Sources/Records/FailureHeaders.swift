import Bridge
import Foundation
import HTTPAPI
import Kafka

/// One failed attempt, as kept in the `error-history` header.
public struct FailedAttempt: Sendable, Codable, Equatable {
    public var attempt: Int
    public var at: String
    public var topic: String
    public var `class`: String
    public var message: String
    /// The worker that ran it (``WorkerName``); absent in history written before it was kept.
    public var worker: String?
    /// How long the attempt took, in milliseconds; absent like ``worker``.
    public var ms: Int?

    public init(attempt: Int, at: String, topic: String, class: String, message: String, worker: String? = nil, ms: Int? = nil) {
        self.attempt = attempt
        self.at = at
        self.topic = topic
        self.class = `class`
        self.message = message
        self.worker = worker
        self.ms = ms
    }
}

/// The failure headers of a retry tier or dead-letter record: what failed, how often, where the
/// event was first read. The worker writes them (``headers(carrying:)``); the next attempt, the
/// retry gate, `dlq` and the replay read them (``init(_:)``).
public struct FailureHeaders: Sendable, Equatable {
    /// Failed attempts so far (a budget wait is not one).
    public var attempt: Int
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    public var consumerGroup: String
    public var errorClass: String
    public var errorMessage: String
    public var firstFailedAt: Date
    /// When the retry is due; nil on a dead letter.
    public var nextAttemptAt: Date?
    /// The failed attempts, oldest first, at most ``maxHistory``.
    public var history: [FailedAttempt]
    /// What the event had done (the project made, extras attached) when a retryable failure cut
    /// it short; nil before the project exists.
    public var progress: EventProgress?

    /// Longest `error-message` kept.
    public static let maxMessageLength = 500
    /// Attempts kept in `error-history`.
    public static let maxHistory = 10

    public init(attempt: Int, sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64, consumerGroup: String,
                errorClass: String, errorMessage: String, firstFailedAt: Date, nextAttemptAt: Date?, history: [FailedAttempt],
                progress: EventProgress? = nil) {
        self.progress = progress
        self.attempt = attempt
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.consumerGroup = consumerGroup
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.firstFailedAt = firstFailedAt
        self.nextAttemptAt = nextAttemptAt
        self.history = history
    }

    /// The failure headers of `message` (nil when it has none, e.g. a fresh webhook).
    public init?(_ message: KafkaMessage) { self.init(headers: message.headers) }

    /// Reads failure headers; nil without an `error-class`. A header that is missing or unreadable
    /// gets a neutral value (0, empty, the epoch) rather than losing the rest.
    public init?(headers: [KafkaHeader]) {
        guard let errorClass = headers.text(RecordHeader.errorClass) else { return nil }
        self.init(attempt: Int(headers.text(RecordHeader.attempt) ?? "") ?? 0,
                  sourceTopic: headers.text(RecordHeader.sourceTopic) ?? "",
                  sourcePartition: Int32(headers.text(RecordHeader.sourcePartition) ?? "") ?? -1,
                  sourceOffset: Int64(headers.text(RecordHeader.sourceOffset) ?? "") ?? -1,
                  consumerGroup: headers.text(RecordHeader.consumerGroup) ?? "",
                  errorClass: errorClass, errorMessage: headers.text(RecordHeader.errorMessage) ?? "",
                  firstFailedAt: RecordTimestamp.parse(headers.text(RecordHeader.firstFailedAt)) ?? Date(timeIntervalSince1970: 0),
                  nextAttemptAt: RecordTimestamp.parse(headers.text(RecordHeader.nextAttemptAt)),
                  history: Self.history(headers.text(RecordHeader.errorHistory)), progress: Self.progress(headers))
    }

    /// The failure headers after an attempt of `message` failed: the source and the first failure
    /// carried from earlier failures (or taken from `message` on the first), the failed attempt
    /// appended to the history unless it was a budget wait (``ErrorClass/Disposition/budget``),
    /// which is not a failed attempt.
    /// - Parameter attempts: the attempts including this one.
    /// - Parameters:
    ///   - worker: the worker that ran the attempt; `startedAt`: when it began (the history keeps both).
    public static func after(_ message: KafkaMessage, errorClass: ErrorClass, errorMessage: String, attempts: Int,
                             consumerGroup: String, nextAttemptAt: Date?, now: Date, progress: EventProgress? = nil,
                             worker: String? = nil, startedAt: Date? = nil) -> FailureHeaders {
        let budgetWait = errorClass.disposition == .budget
        let old = message.headers
        let message1Line = String(singleLine(errorMessage).prefix(maxMessageLength))
        var history = Self.history(old.text(RecordHeader.errorHistory))
        if !budgetWait {
            history.append(FailedAttempt(attempt: attempts, at: RecordTimestamp.text(now), topic: old.text(RecordHeader.retriedFrom) ?? message.topic,
                                         class: errorClass.description, message: message1Line, worker: worker,
                                         ms: startedAt.map { max(0, Int((now.timeIntervalSince($0) * 1000).rounded())) }))
        }
        return FailureHeaders(attempt: budgetWait ? attempts - 1 : attempts,
                              sourceTopic: old.text(RecordHeader.sourceTopic) ?? message.topic,
                              sourcePartition: Int32(old.text(RecordHeader.sourcePartition) ?? "") ?? message.partition,
                              sourceOffset: Int64(old.text(RecordHeader.sourceOffset) ?? "") ?? message.offset,
                              consumerGroup: consumerGroup, errorClass: errorClass.description, errorMessage: message1Line,
                              firstFailedAt: RecordTimestamp.parse(old.text(RecordHeader.firstFailedAt)) ?? now,
                              nextAttemptAt: nextAttemptAt, history: Array(history.suffix(maxHistory)), progress: progress)
    }

    /// The record's headers: `event-id`, `tenant` and `traceparent` first, then these and the trace's
    /// other headers, then every other header of `carried` (the original record's: a gateway's or an
    /// operator's marks travel along), without the failure and trace headers it had.
    public func headers(eventID: String?, tenant: String?, trace: RecordTrace, carrying carried: [KafkaHeader]) -> [KafkaHeader] {
        var headers: [KafkaHeader] = []
        if let eventID = eventID ?? carried.text(RecordHeader.eventID) { headers.append(KafkaHeader(RecordHeader.eventID, eventID)) }
        if let tenant = tenant ?? carried.text(RecordHeader.tenant) { headers.append(KafkaHeader(RecordHeader.tenant, tenant)) }
        let historyText = (try? JSONCoding.encoder.encode(history)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        headers += [
            KafkaHeader(RecordHeader.traceparent, trace.parent.description),
            KafkaHeader(RecordHeader.attempt, String(attempt)),
            KafkaHeader(RecordHeader.sourceTopic, sourceTopic),
            KafkaHeader(RecordHeader.sourcePartition, String(sourcePartition)),
            KafkaHeader(RecordHeader.sourceOffset, String(sourceOffset)),
            KafkaHeader(RecordHeader.consumerGroup, consumerGroup),
            KafkaHeader(RecordHeader.errorClass, errorClass),
            KafkaHeader(RecordHeader.errorMessage, errorMessage),
            KafkaHeader(RecordHeader.firstFailedAt, RecordTimestamp.text(firstFailedAt)),
            KafkaHeader(RecordHeader.errorHistory, historyText),
        ]
        if let nextAttemptAt { headers.append(KafkaHeader(RecordHeader.nextAttemptAt, RecordTimestamp.text(nextAttemptAt))) }
        if let progress, let json = try? JSONCoding.encoder.encode(progress) {
            headers.append(KafkaHeader(RecordHeader.progress, String(decoding: json, as: UTF8.self)))
        }
        headers += trace.propagated
        let replaced = Set(headers.map(\.key)).union(RecordHeader.failureHeaders)
        return headers + carried.filter { !replaced.contains($0.key) }
    }

    /// A due retry tier record's headers for its trip back to the webhooks topic: the due time is
    /// spent and `retried-from` names the tier; the rest travels as it is.
    public static func dueRetryHeaders(_ message: KafkaMessage) -> [KafkaHeader] {
        message.headers.filter { $0.key != RecordHeader.nextAttemptAt && $0.key != RecordHeader.retriedFrom }
            + [KafkaHeader(RecordHeader.retriedFrom, message.topic)]
    }

    /// The failed attempts a record carries: 0 for a fresh webhook. (Reads one header, not the
    /// history: the worker asks on every record.)
    public static func attempts(of message: KafkaMessage) -> Int {
        Int(message.headers.text(RecordHeader.attempt) ?? "") ?? 0
    }

    /// What the event had done before it failed (a retry record's `progress`); nil when it carries
    /// none or an unreadable one (the attempt then starts over, which every step's own check makes safe).
    public static func progress(_ headers: [KafkaHeader]) -> EventProgress? {
        guard let text = headers.text(RecordHeader.progress) else { return nil }
        return try? JSONCoding.decoder.decode(EventProgress.self, from: Data(text.utf8))
    }

    /// When a retry tier record is due, nil when it has no (readable) due time.
    public static func nextAttemptAt(_ message: KafkaMessage) -> Date? {
        RecordTimestamp.parse(message.headers.text(RecordHeader.nextAttemptAt))
    }

    /// Error text on one line (an HTML error page becomes one line of text).
    public static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func history(_ text: String?) -> [FailedAttempt] {
        guard let text else { return [] }
        return (try? JSONCoding.decoder.decode([FailedAttempt].self, from: Data(text.utf8))) ?? []
    }
}
