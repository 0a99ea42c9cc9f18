import Foundation
import HTTPAPI
import Kafka

/// The API answers an attempt read (``ReadMemo``), carried on the event's retry record in the
/// `reads` header (``RecordHeader/reads``) as `{"answers": {url: answer}, "at": time}`: the next
/// attempt reuses them for ``maxAge`` instead of reading them again. Only answers the clients mark
/// reusable are in it (Aurora's project, design, pricing, financing, consumption and users); the
/// agreement, whose status decides whether to act, is always read again.
public struct CarriedReads: Sendable, Equatable {
    /// When the oldest answer was read.
    public var at: Date
    /// Answer bodies (JSON) by URL.
    public var answers: [String: Data]

    /// How long answers are reused: Aurora's objects change rarely between a signature and its
    /// retries, and the per-tenant user and catalog caches keep theirs as long.
    public static let maxAge: TimeInterval = 15 * 60
    /// The most a header carries; larger sets are not carried (the retry reads again).
    public static let maxBytes = 256 * 1024

    public init(at: Date, answers: [String: Data]) {
        self.at = at
        self.answers = answers
    }

    /// The carried reads of a record; nil without (readable) ones.
    public init?(_ headers: [KafkaHeader]) {
        guard let text = headers.text(RecordHeader.reads), let json = try? JSONParser.parse(Data(text.utf8)),
              let at = json["at"]?.stringValue.flatMap(RecordTimestamp.parse), case .object(let answers)? = json["answers"] else {
            return nil
        }
        self.init(at: at, answers: answers.mapValues { $0.encoded() })
    }

    /// The answers, unless they are older than ``maxAge`` at `now` (then none).
    public func fresh(now: Date) -> [String: Data] {
        now.timeIntervalSince(at) <= Self.maxAge ? answers : [:]
    }

    /// The `reads` header; nil when there is nothing to carry, an answer is not JSON, or the whole
    /// is over ``maxBytes``.
    public var header: KafkaHeader? {
        guard !answers.isEmpty else { return nil }
        var parsed: [String: JSONValue] = [:]
        for (url, body) in answers {
            guard let value = try? JSONParser.parse(body) else { return nil }
            parsed[url] = value
        }
        let json: JSONValue = .object(["at": .string(RecordTimestamp.text(at)), "answers": .object(parsed)])
        let bytes = json.encoded()
        guard bytes.count <= Self.maxBytes else { return nil }
        return KafkaHeader(RecordHeader.reads, String(decoding: bytes, as: UTF8.self))
    }
}
