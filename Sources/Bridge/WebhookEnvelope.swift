import AuroraAPI
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

/// Compact JSON written straight into bytes.
public struct JSONBytes: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends JSON syntax as it is.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a quoted, escaped string: `"` `\\` and control characters are escaped, the rest is UTF-8 as is.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Most values (ids, slugs, statuses) need no escaping.
            guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case UInt8(ascii: "\n"): raw("\\n")
                case UInt8(ascii: "\r"): raw("\\r")
                case UInt8(ascii: "\t"): raw("\\t")
                case ..<0x20:
                    raw("\\u00")
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a decimal integer.
    public mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends `date` as ISO 8601 UTC with milliseconds (`2026-11-27T04:45:03.123Z`), unquoted.
    public mutating func timestamp(_ date: Date) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = milliseconds / 86_400_000
        var inDay = milliseconds % 86_400_000
        if inDay < 0 { inDay += 86_400_000; days -= 1 }
        // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard (0...9999).contains(year) else {
            bytes.append(contentsOf: date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)).utf8)
            return
        }
        digits(year, 4); bytes.append(UInt8(ascii: "-"))
        digits(month, 2); bytes.append(UInt8(ascii: "-"))
        digits(day, 2); bytes.append(UInt8(ascii: "T"))
        digits(inDay / 3_600_000, 2); bytes.append(UInt8(ascii: ":"))
        digits(inDay / 60_000 % 60, 2); bytes.append(UInt8(ascii: ":"))
        digits(inDay / 1000 % 60, 2); bytes.append(UInt8(ascii: "."))
        digits(inDay % 1000, 3); bytes.append(UInt8(ascii: "Z"))
    }

    private mutating func digits(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
