import Foundation

/// Any JSON value: the one JSON value type of the package (Coperniq's open `custom` map, the
/// tolerant Aurora reader, the sandbox's stored state). ``JSONParser`` reads it and ``JSONBytes``
/// writes it; Codable conformance is for types that embed one.
public enum JSONValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Strings first: most values are, and a failed attempt costs a thrown error.
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        // Whole numbers without a fraction, as JSONBytes writes them.
        case .number(let value) where value.rounded() == value && abs(value) < 1e15: try container.encode(Int64(value))
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as text: strings as they are, numbers without a trailing `.0`.
    public var text: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): String(value)
        default: nil
        }
    }

    /// Text as ``text`` gives it; arrays, objects and null as compact JSON.
    public var description: String {
        if let text { return text }
        var out = JSONBytes(capacity: 64)
        try? out.value(self)  // throws only for numbers that are not finite, which `text` covers
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

extension JSONValue {
    /// A whole number.
    public static func integer(_ value: Int) -> JSONValue { .number(Double(value)) }

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The number when it is whole (and within ±10^15), else nil.
    public var intValue: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { Int(value) } else { nil }
    }

    /// The number this value holds, or the number a numeric-looking string spells.
    public var numericValue: Double? {
        switch self {
        case .number(let value): value
        case .string(let value): Double(value.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    /// The member `key` of an object; nil for a missing key or another kind of value.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    /// Compact JSON, object keys sorted (stable output for the same value); a number that is not
    /// finite, which JSON cannot carry, is written as null.
    public func encoded() -> Data {
        var out = JSONBytes(capacity: 256)
        if (try? out.value(self)) == nil { return Data("null".utf8) }
        return Data(out.bytes)
    }

    /// Reads JSON text (``JSONParser``).
    public static func decode(_ data: Data) throws -> JSONValue { try JSONParser.parse(data) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
