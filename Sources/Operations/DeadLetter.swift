import Bridge
import Foundation
import Kafka
import Records

/// One record of the dead-letter topic, read back for an operator: why it failed, where from,
/// and the envelope itself.
public struct DeadLetter: Sendable {
    public let record: KafkaMessage
    /// The envelope, when the value is one (an unreadable value is dead-lettered as it came).
    public let envelope: WebhookEnvelope?

    /// Its failure headers (nil on a record dead-lettered without them, which the worker never writes).
    public let failure: FailureHeaders?

    public init(_ record: KafkaMessage) {
        self.record = record
        envelope = try? WebhookEnvelope.decode(record.value)
        failure = FailureHeaders(record)
    }

    public var partition: Int32 { record.partition }
    public var offset: Int64 { record.offset }
    /// When it was dead-lettered (the record's timestamp).
    public var deadLetteredAt: Date? { record.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
    public var eventID: String { record.headers.text(RecordHeader.eventID) ?? envelope?.id ?? "-" }
    public var tenant: String { record.headers.text(RecordHeader.tenant) ?? envelope?.tenant ?? "-" }
    public var auroraProjectID: String { envelope?.projectID ?? "-" }
    public var attempts: Int { FailureHeaders.attempts(of: record) }
    public var errorClass: String { failure?.errorClass ?? "-" }
    public var errorMessage: String { failure?.errorMessage ?? "" }
    public var firstFailedAt: Date? { failure?.firstFailedAt }
    /// Every failed attempt, oldest first.
    public var history: [FailedAttempt] { failure?.history ?? [] }

    /// Identifies the record in the replay ledger: `<dlq topic>/<partition>/<offset>`.
    public var ledgerKey: String { ReplayLedgerEntry.key(of: record) }
}

/// Which dead letters an operator means: every given criterion must hold.
public struct DeadLetterFilter: Sendable, Equatable {
    public var tenant: String?
    public var errorClass: String?
    /// Dead-lettered at or after.
    public var since: Date?
    /// Dead-lettered before.
    public var until: Date?
    public var eventID: String?
    /// At most this many, the oldest first (nil: all).
    public var limit: Int?

    public init(tenant: String? = nil, errorClass: String? = nil, since: Date? = nil, until: Date? = nil, eventID: String? = nil,
                limit: Int? = nil) {
        self.tenant = tenant
        self.errorClass = errorClass
        self.since = since
        self.until = until
        self.eventID = eventID
        self.limit = limit
    }

    public func matches(_ letter: DeadLetter) -> Bool {
        if let tenant, letter.tenant != tenant { return false }
        if let errorClass, letter.errorClass != errorClass, !letter.errorClass.hasPrefix(errorClass + ".") { return false }
        if let eventID, letter.eventID != eventID { return false }
        if let since, (letter.deadLetteredAt ?? .distantPast) < since { return false }
        if let until, (letter.deadLetteredAt ?? .distantFuture) >= until { return false }
        return true
    }

    /// The matching letters, oldest first, at most ``limit``.
    public func apply(_ letters: [DeadLetter]) -> [DeadLetter] {
        let matching = letters.filter(matches).sorted {
            ($0.deadLetteredAt ?? .distantPast, $0.partition, $0.offset) < ($1.deadLetteredAt ?? .distantPast, $1.partition, $1.offset)
        }
        return limit.map { Array(matching.prefix($0)) } ?? matching
    }
}

/// Counts by tenant and by error class, and the time span.
public struct DeadLetterStats: Sendable, Equatable {
    public var total: Int
    public var byTenant: [String: Int]
    public var byErrorClass: [String: Int]
    public var oldest: Date?
    public var newest: Date?

    public init(_ letters: [DeadLetter]) {
        total = letters.count
        byTenant = Dictionary(letters.map { ($0.tenant, 1) }, uniquingKeysWith: +)
        byErrorClass = Dictionary(letters.map { ($0.errorClass, 1) }, uniquingKeysWith: +)
        let dates = letters.compactMap(\.deadLetteredAt)
        oldest = dates.min()
        newest = dates.max()
    }
}
