import Bridge
import Foundation
import HTTPAPI
import Kafka

/// The webhook record: the envelope's JSON as the value, `{tenant}/{aurora project}` as the key, and
/// the `event-id`, `tenant` and `traceparent` headers. The gateway writes it; the worker, a due
/// retry and a replay read it.
public enum WebhookRecord {
    /// The headers of a new webhook record.
    public static func headers(for envelope: WebhookEnvelope, trace: RecordTrace) -> [KafkaHeader] {
        var headers = [KafkaHeader(RecordHeader.eventID, envelope.id), KafkaHeader(RecordHeader.tenant, envelope.tenant),
                       KafkaHeader(RecordHeader.traceparent, trace.parent.description)]
        if !trace.propagated.isEmpty { headers += trace.propagated }
        return headers
    }

    /// The record the gateway publishes for `envelope`.
    public static func make(_ envelope: WebhookEnvelope, trace: RecordTrace, topic: String = Topics.default.webhooks) -> KafkaRecord {
        KafkaRecord(topic: topic, key: Array(envelope.kafkaKey.utf8), value: envelope.recordValue(),
                    headers: headers(for: envelope, trace: trace))
    }
}

extension WebhookEnvelope {
    /// The Kafka key: one Aurora project's events share it, so they stay in order.
    public var kafkaKey: String { "\(tenant)/\(projectID ?? "-")" }

    /// Records are placed on a partition by the part of ``kafkaKey`` before this byte, the tenant:
    /// the worker that owns a tenant's partition owns its retries and its rate budget too, while the
    /// key still keeps the tenant's projects apart (they run concurrently).
    public static let partitionKeySeparator = UInt8(ascii: "/")

    /// The record value: compact JSON, keys sorted (the shape `JSONEncoder` writes with `.sortedKeys`
    /// and ISO 8601 dates with milliseconds; `RecordsTests` compares them), written by hand because
    /// the gateway encodes one per request (`aurora-bridge-lab bench gateway-core`).
    public func encoded() throws -> Data { Data(recordValue()) }

    /// The record value as bytes (see ``encoded()``).
    public func recordValue() -> [UInt8] {
        var out = JSONBytes(capacity: 320 + (body?.utf8.count ?? 0))
        out.raw("{")
        if let body { out.raw("\"body\":"); out.string(body); out.raw(",") }
        out.raw("\"event\":"); out.string(event)
        out.raw(",\"id\":"); out.string(id)
        out.raw(",\"params\":{")
        for (index, name) in params.keys.sorted().enumerated() {
            if index > 0 { out.raw(",") }
            out.string(name); out.raw(":"); out.string(params[name]!)
        }
        out.raw("},\"receivedAt\":\"")
        out.timestamp(receivedAt)
        out.raw("\",")
        if let source {
            out.raw("\"source\":{")
            if let address = source.remoteAddress { out.raw("\"remoteAddress\":"); out.string(address) }
            if let agent = source.userAgent {
                if source.remoteAddress != nil { out.raw(",") }
                out.raw("\"userAgent\":"); out.string(agent)
            }
            out.raw("},")
        }
        out.raw("\"tenant\":"); out.string(tenant)
        out.raw(",\"v\":"); out.integer(v)
        out.raw("}")
        return out.bytes
    }

    /// Reads a record value (what ``encoded()`` wrote), as strictly as `JSONDecoder` would: required
    /// fields present with their types, optional ones absent, null or typed.
    public static func decode(_ data: Data) throws -> WebhookEnvelope {
        try WebhookEnvelope(json: JSONParser.parse(data))
    }

    public static func decode(_ bytes: [UInt8]) throws -> WebhookEnvelope {
        try WebhookEnvelope(json: JSONParser.parse(bytes))
    }

    public init(json: JSONValue) throws {
        guard let fields = json.objectValue else { throw EnvelopeError("the envelope is not a JSON object") }
        func required(_ name: String) throws -> String {
            guard let text = fields[name]?.stringValue else { throw EnvelopeError("'\(name)' is missing or not text") }
            return text
        }
        func optional(_ object: [String: JSONValue], _ name: String) throws -> String? {
            switch object[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw EnvelopeError("'\(name)' is not text")
            }
        }
        guard let version = fields["v"]?.numberValue, version.rounded() == version, abs(version) < 1e9 else {
            throw EnvelopeError("'v' is missing or not an integer")
        }
        guard let params = fields["params"]?.objectValue else { throw EnvelopeError("'params' is missing or not an object") }
        var texts: [String: String] = [:]
        texts.reserveCapacity(params.count)
        for (name, value) in params {
            guard let text = value.stringValue else { throw EnvelopeError("parameter '\(name)' is not text") }
            texts[name] = text
        }
        let stamp = try required("receivedAt")
        guard let receivedAt = UTCTimestamp.parse(stamp) else {
            throw EnvelopeError("receivedAt '\(stamp)' is not ISO 8601")
        }
        var source: Source?
        switch fields["source"] {
        case nil, .null?: source = nil
        case .object(let object)?: source = Source(remoteAddress: try optional(object, "remoteAddress"), userAgent: try optional(object, "userAgent"))
        default: throw EnvelopeError("'source' is not an object")
        }
        self.init(v: Int(version), id: try required("id"), tenant: try required("tenant"), event: try required("event"), params: texts,
                  receivedAt: receivedAt, source: source, body: try optional(fields, "body"))
    }
}

/// A record value that is not an envelope.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
