import Foundation

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

    /// Appends an array of strings.
    public mutating func strings(_ items: [String]) {
        raw("[")
        for (index, item) in items.enumerated() {
            if index > 0 { raw(",") }
            string(item)
        }
        raw("]")
    }

    /// A flat object of strings, keys sorted: the small answers of the HTTP endpoints.
    public static func object(_ fields: [String: String]) -> [UInt8] {
        var out = JSONBytes(capacity: 64)
        out.raw("{")
        for (index, name) in fields.keys.sorted().enumerated() {
            if index > 0 { out.raw(",") }
            out.string(name); out.raw(":"); out.string(fields[name]!)
        }
        out.raw("}")
        return out.bytes
    }

    /// Appends a decimal integer.
    public mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends a number: integers without a fraction, others in Swift's shortest round-trip form.
    /// Throws for infinity and NaN, which JSON cannot carry (as `JSONEncoder` does).
    public mutating func number(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not a JSON number"))
        }
        if value.rounded() == value && abs(value) < 1e15 {
            integer(Int(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Appends any JSON value; object keys sorted.
    public mutating func value(_ json: JSONValue) throws {
        switch json {
        case .string(let text): string(text)
        case .number(let number): try self.number(number)
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .null: raw("null")
        case .array(let items):
            raw("[")
            for (index, item) in items.enumerated() {
                if index > 0 { raw(",") }
                try value(item)
            }
            raw("]")
        case .object(let fields):
            raw("{")
            for (index, name) in fields.keys.sorted().enumerated() {
                if index > 0 { raw(",") }
                string(name)
                raw(":")
                try value(fields[name]!)
            }
            raw("}")
        }
    }

    /// Appends `date` as ISO 8601 UTC with milliseconds (`2026-11-27T04:45:03.123Z`), unquoted.
    public mutating func timestamp(_ date: Date) {
        UTCTimestamp.append(date, to: &bytes)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
