import Bridge
import Foundation
import HTTPAPI

/// Why a webhook request is refused: an HTTP status and a JSON body `{error, detail}`.
/// Nothing refused is ever published.
public struct WebhookRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    /// Machine-readable, e.g. `missing_parameter`.
    public let error: String
    /// What is wrong and how to fix it. Never echoes a token.
    public let detail: String
    /// For 429 and 503: seconds until a retry makes sense.
    public let retryAfterSeconds: Int?
    /// Said in the log only, never in the answer (e.g. that the tenant does not exist).
    public let logDetail: String?

    public init(_ status: Int, _ error: String, _ detail: String, retryAfterSeconds: Int? = nil, logDetail: String? = nil) {
        self.status = status
        self.error = error
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
        self.logDetail = logDetail
    }

    public var description: String { "\(status) \(error): \(detail)" }
}

/// Limits on what a webhook request may carry.
public struct WebhookLimits: Sendable {
    public var maxURLBytes = 8 * 1024
    public var maxParameters = 32
    public var maxNameBytes = 64
    public var maxValueBytes = 1024
    public var maxBodyBytes = 64 * 1024

    public init() {}
}

/// Parsing and validation of one Aurora webhook request, independent of the HTTP server.
public enum WebhookRequest {
    /// The query parameter that may carry the tenant's token (when the header cannot be configured).
    public static let tokenParameter = "token"
    /// Identifiers Aurora fills in: UUIDs in practice; anything else made of letters, digits and
    /// `-_.:` is accepted.
    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: false
        }
    }

    /// Parses a raw (still percent-encoded) query string: `+` is a space, every name at most once.
    public static func parseQuery(_ raw: String, limits: WebhookLimits = .init()) throws(WebhookRejection) -> [String: String] {
        var parameters: [String: String] = [:]
        parameters.reserveCapacity(8)
        var rest = raw[...]
        while !rest.isEmpty {
            let (piece, remainder) = cut(rest, at: UInt8(ascii: "&"))
            rest = remainder ?? ""
            if piece.isEmpty { continue }
            let (rawName, rawValue) = cut(piece, at: UInt8(ascii: "="))
            guard let name = decode(rawName), let value = decode(rawValue ?? "") else {
                throw WebhookRejection(400, "bad_encoding", "a query parameter is not valid percent-encoded UTF-8")
            }
            guard !name.isEmpty else { throw WebhookRejection(400, "bad_parameter", "a query parameter has no name") }
            guard name.utf8.count <= limits.maxNameBytes else {
                throw WebhookRejection(400, "parameter_too_long", "a parameter name is longer than \(limits.maxNameBytes) bytes")
            }
            guard value.utf8.count <= limits.maxValueBytes else {
                throw WebhookRejection(400, "parameter_too_long", "parameter '\(name)' is longer than \(limits.maxValueBytes) bytes")
            }
            guard parameters[name] == nil else {
                throw WebhookRejection(400, "duplicate_parameter", "parameter '\(name)' appears more than once")
            }
            guard parameters.count < limits.maxParameters else {
                throw WebhookRejection(400, "too_many_parameters", "more than \(limits.maxParameters) query parameters")
            }
            parameters[name] = value
        }
        return parameters
    }

    /// `text` cut at the first `byte` (ASCII, so the cut falls between characters): what is before
    /// it, and what is after it (nil when there is none).
    private static func cut(_ text: Substring, at byte: UInt8) -> (Substring, Substring?) {
        guard let index = text.utf8.firstIndex(of: byte) else { return (text, nil) }
        return (text[..<index], text[text.utf8.index(after: index)...])
    }

    /// Checks the parameters Aurora's `agreement_status_changed` template fills in.
    /// Unknown statuses are accepted (Aurora adds values); empty `design_id`/`financing_id` mean none.
    public static func validate(_ parameters: [String: String]) throws(WebhookRejection) {
        for name in ["project_id", "agreement_id", "status"] {
            guard let value = parameters[name], !value.isEmpty else {
                throw WebhookRejection(400, "missing_parameter",
                                       "'\(name)' is required: the URL template needs \(name)=<\(name.uppercased())>")
            }
        }
        for name in ["project_id", "agreement_id", "design_id", "financing_id"] {
            guard let value = parameters[name], !value.isEmpty else { continue }
            guard value.utf8.count <= 128, value.utf8.allSatisfy(isIdentifierByte) else {
                throw WebhookRejection(400, "invalid_parameter", "'\(name)' must be an Aurora id (letters, digits, '-', '_', '.', ':'; at most 128)")
            }
        }
        let status = parameters["status"]!
        guard status.utf8.count <= 64, status.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw WebhookRejection(400, "invalid_parameter", "'status' must be printable ASCII of at most 64 characters (e.g. signed)")
        }
        if let event = parameters["event"], event.isEmpty || event.utf8.count > 64 || !event.utf8.allSatisfy(isIdentifierByte) {
            throw WebhookRejection(400, "invalid_parameter", "'event' must be an event name such as agreement_status_changed")
        }
    }

    /// Checks a POST body: valid UTF-8, and valid JSON when it says it is JSON.
    public static func validateBody(_ body: [UInt8], contentType: String?) throws(WebhookRejection) -> String? {
        guard !body.isEmpty else { return nil }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw WebhookRejection(400, "bad_encoding", "the body is not valid UTF-8")
        }
        if contentType?.lowercased().contains("json") == true {
            guard (try? JSONParser.parse(body)) != nil else {
                throw WebhookRejection(400, "invalid_json", "the body says application/json but is not valid JSON")
            }
        }
        return text
    }

    /// Form-style percent-decoding (`+` is a space); nil for a bad escape or bytes that are not UTF-8.
    static func decode(_ text: Substring) -> String? {
        // Most names and values (ids, statuses) carry no escape.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        func hex(_ c: UInt8?) -> UInt8? {
            switch c {
            case let c? where c >= 48 && c <= 57: c - 48
            case let c? where c >= 97 && c <= 102: c - 87
            case let c? where c >= 65 && c <= 70: c - 55
            default: nil
            }
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
