import AuroraAPI
import Foundation
import HTTPAPI

/// One Aurora webhook as the gateway received it: the value of every `aurora.webhooks` record.
///
/// Aurora sends no body, event id or timestamp, so the gateway assigns `id` and stamps
/// `receivedAt`, which also stands for the contract-signed date.
public struct WebhookEnvelope: Sendable, Codable, Equatable {
    /// The envelope format version.
    public static let currentVersion = 1

    public var v: Int
    /// Event id assigned at the gateway (a UUID).
    public var id: String
    /// The tenant slug from the webhook URL.
    public var tenant: String
    /// e.g. `agreement_status_changed` (a static parameter of the URL template, or the default).
    public var event: String
    /// The query parameters Aurora filled in: project_id, agreement_id, status, design_id, financing_id, …
    public var params: [String: String]
    public var receivedAt: Date
    public var source: Source?
    /// A POST body, kept as text when present.
    public var body: String?

    public struct Source: Sendable, Codable, Equatable {
        public var remoteAddress: String?
        public var userAgent: String?

        public init(remoteAddress: String? = nil, userAgent: String? = nil) {
            self.remoteAddress = remoteAddress
            self.userAgent = userAgent
        }
    }

    public init(v: Int = WebhookEnvelope.currentVersion, id: String, tenant: String, event: String = "agreement_status_changed",
                params: [String: String], receivedAt: Date, source: Source? = nil, body: String? = nil) {
        self.v = v
        self.id = id
        self.tenant = tenant
        self.event = event
        self.params = params
        self.receivedAt = receivedAt
        self.source = source
        self.body = body
    }

    public var projectID: String? { params["project_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var agreementID: String? { params["agreement_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var status: String? { params["status"].flatMap { $0.isEmpty ? nil : $0 } }
    public var designID: String? { params["design_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var financingID: String? { params["financing_id"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The Kafka key: one Aurora project's events share it, so they stay in order on one partition.
    public var kafkaKey: String { "\(tenant)/\(projectID ?? "-")" }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = AuroraTimestamp.parseUTC(text) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "receivedAt '\(text)' is not ISO 8601")
        }
        return decoder
    }()

    /// The record value: compact JSON, keys sorted (the same shape ``encoder`` writes), written by
    /// hand because the gateway encodes one per request.
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

    public static func decode(_ data: Data) throws -> WebhookEnvelope { try decoder.decode(WebhookEnvelope.self, from: data) }
}

/// JSON text for strings, for the few places that write JSON by hand on a hot path.
public enum JSONText {
    /// A flat JSON object of strings, keys sorted (small answers; no Foundation round trip).
    public static func object(_ fields: [String: String]) -> String {
        var out = JSONBytes(capacity: 64)
        out.raw("{")
        for (index, name) in (fields.count == 1 ? Array(fields.keys) : fields.keys.sorted()).enumerated() {
            if index > 0 { out.raw(",") }
            out.string(name); out.raw(":"); out.string(fields[name]!)
        }
        out.raw("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// A quoted, escaped JSON string.
    public static func string(_ text: String) -> String {
        var out = JSONBytes(capacity: text.utf8.count + 2)
        out.string(text)
        return String(decoding: out.bytes, as: UTF8.self)
    }
}
