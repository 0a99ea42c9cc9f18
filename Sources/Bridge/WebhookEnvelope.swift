import Foundation

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
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "receivedAt '\(text)' is not ISO 8601")
        }
        return decoder
    }()

    /// The record value: compact JSON, keys sorted (the same shape ``encoder`` writes), written by
    /// hand because the gateway encodes one per request.
    public func encoded() throws -> Data {
        var out = "{"
        if let body { out += "\"body\":" + JSONText.string(body) + "," }
        out += "\"event\":" + JSONText.string(event) + ",\"id\":" + JSONText.string(id) + ",\"params\":{"
        out += params.keys.sorted().map { JSONText.string($0) + ":" + JSONText.string(params[$0]!) }.joined(separator: ",")
        out += "},\"receivedAt\":" + JSONText.string(receivedAt.formatted(Self.timestampStyle)) + ","
        if let source {
            var fields: [String] = []
            if let address = source.remoteAddress { fields.append("\"remoteAddress\":" + JSONText.string(address)) }
            if let agent = source.userAgent { fields.append("\"userAgent\":" + JSONText.string(agent)) }
            out += "\"source\":{" + fields.joined(separator: ",") + "},"
        }
        out += "\"tenant\":" + JSONText.string(tenant) + ",\"v\":\(v)}"
        return Data(out.utf8)
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    public static func decode(_ data: Data) throws -> WebhookEnvelope { try decoder.decode(WebhookEnvelope.self, from: data) }
}

/// JSON text for strings, for the few places that write JSON by hand on a hot path.
public enum JSONText {
    /// A flat JSON object of strings, keys sorted (small answers; no Foundation round trip).
    public static func object(_ fields: [String: String]) -> String {
        "{" + fields.keys.sorted().map { string($0) + ":" + string(fields[$0]!) }.joined(separator: ",") + "}"
    }

    /// A quoted, escaped JSON string.
    public static func string(_ text: String) -> String {
        // Most values (ids, slugs, statuses) need no escaping.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}
