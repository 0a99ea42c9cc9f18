import Foundation
import HTTPAPI
import Kafka

/// A replayed dead letter's record and its replay ledger entry, written in one transaction by
/// `dlq replay`.
public enum ReplayRecord {
    /// The record a dead letter is replayed as: its key and value, its failure headers dropped (the
    /// attempt count starts again), the trace continued (in a new span unless `trace` is given), and
    /// ``ReplayMark`` added.
    public static func make(from deadLetter: KafkaMessage, replayID: String, topic: String, trace: TraceParent? = nil) -> KafkaRecord {
        let carried = deadLetter.headers.filter {
            !RecordHeader.failureHeaders.contains($0.key) && $0.key != RecordHeader.traceparent
                && $0.key != RecordHeader.replayedFrom && $0.key != RecordHeader.replayID
        }
        let trace = trace ?? TraceParent.continuing(deadLetter.headers.text(RecordHeader.traceparent))
        let mark = ReplayMark(replayedFrom: ReplayLedgerEntry.key(of: deadLetter), replayID: replayID)
        return KafkaRecord(topic: topic, key: deadLetter.key, value: deadLetter.value,
                           headers: carried + [KafkaHeader(RecordHeader.traceparent, trace.description)] + mark.headers)
    }
}

/// The headers that mark a replayed record.
public struct ReplayMark: Sendable, Equatable {
    /// The dead letter it came from: `<dlq topic>/<partition>/<offset>`.
    public var replayedFrom: String
    /// The `dlq replay` run.
    public var replayID: String

    public init(replayedFrom: String, replayID: String) {
        self.replayedFrom = replayedFrom
        self.replayID = replayID
    }

    /// The mark of a replayed record, nil on any other.
    public init?(_ message: KafkaMessage) {
        guard let from = message.headers.text(RecordHeader.replayedFrom), let id = message.headers.text(RecordHeader.replayID) else {
            return nil
        }
        self.init(replayedFrom: from, replayID: id)
    }

    public var headers: [KafkaHeader] {
        [KafkaHeader(RecordHeader.replayedFrom, replayedFrom), KafkaHeader(RecordHeader.replayID, replayID)]
    }
}

/// One entry of the replay ledger, a compacted topic keyed by the dead letter
/// (`<dlq topic>/<partition>/<offset>`): who replayed it and when.
public struct ReplayLedgerEntry: Sendable, Codable, Equatable {
    public var replayID: String
    /// When, ISO 8601.
    public var at: String
    public var eventID: String
    /// Who replayed it: `console:<operator>` or `cli:<user>`; absent in entries written before it was kept.
    public var by: String?

    public init(replayID: String, at: String, eventID: String, by: String? = nil) {
        self.replayID = replayID
        self.at = at
        self.eventID = eventID
        self.by = by
    }

    enum CodingKeys: String, CodingKey { case replayID = "replayId", at, eventID = "eventId", by }
    /// Entries written before the ids were spelled like every other JSON document's.
    private enum OldKeys: String, CodingKey { case replayID, eventID }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        let old = try decoder.container(keyedBy: OldKeys.self)
        replayID = try fields.decodeIfPresent(String.self, forKey: .replayID) ?? old.decode(String.self, forKey: .replayID)
        at = try fields.decode(String.self, forKey: .at)
        eventID = try fields.decodeIfPresent(String.self, forKey: .eventID) ?? old.decode(String.self, forKey: .eventID)
        by = try fields.decodeIfPresent(String.self, forKey: .by)
    }

    /// The ledger key of a dead letter: `<dlq topic>/<partition>/<offset>`.
    public static func key(of deadLetter: KafkaMessage) -> String { "\(deadLetter.topic)/\(deadLetter.partition)/\(deadLetter.offset)" }

    /// The ledger record of `deadLetter`.
    public func record(for deadLetter: KafkaMessage, topic: String) -> KafkaRecord {
        KafkaRecord(topic: topic, key: Array(Self.key(of: deadLetter).utf8), value: Array((try? JSONCoding.encoder.encode(self)) ?? Data()))
    }

    /// A ledger record's key and entry (nil for a tombstone or a value that is not an entry); nil
    /// without a key. Keys written before they named the topic (`<partition>/<offset>`) were all of
    /// `deadLetterTopic`.
    public static func read(_ record: KafkaMessage, deadLetterTopic: String) -> (key: String, entry: ReplayLedgerEntry?)? {
        guard var key = record.keyText else { return nil }
        if key.split(separator: "/").count == 2 { key = "\(deadLetterTopic)/\(key)" }
        return (key, try? JSONCoding.decoder.decode(ReplayLedgerEntry.self, from: Data(record.value)))
    }
}
