import Foundation
import HTTPAPI

/// Aurora's fields drift between API versions (2022.09, 2024.05): these readers of one JSON
/// object accept every shape seen for a field and answer nil, never throw, for a field that is
/// absent or unreadable. Implemented once, over a parsed ``JSONValue`` (``JSONParser``: one pass
/// over the answer, without `JSONDecoder`).
public protocol AuroraFields {
    /// The first of `names` present as text, or as a number (written without a trailing `.0`).
    func string(_ names: String...) -> String?
    /// A number sent as a number or as text such as "104%", "3.05" or "$40,260.00".
    func number(_ names: String...) -> Double?
    func bool(_ name: String) -> Bool?
    /// A timestamp as "YYYY-MM-DD HH:MM:SS UTC" (the agreement and project objects) or ISO 8601.
    func date(_ names: String...) -> Date?
    /// A nested object, or nil when absent, null or of another shape.
    func object<T: AuroraObject>(_ type: T.Type, _ name: String) -> T?
    /// An array of objects sent as a JSON array or as a string holding one (older design summaries);
    /// nil when any element is unreadable.
    func flexibleArray<T: AuroraObject>(_ type: T.Type, _ name: String) -> [T]?
    /// An array of numbers, nil when absent or when any element is not a number.
    func numbers(_ name: String) -> [Double]?
    /// The error for a field the object cannot do without.
    func missing(_ name: String, _ what: String) -> any Error
}

extension AuroraFields {
    /// Like ``string(_:)``, trimmed, and nil when empty (Aurora sends "" where it means none).
    public func text(_ names: String...) -> String? {
        for name in names {
            if let value = string(name)?.trimmedWhitespace, !value.isEmpty { return value }
        }
        return nil
    }
}

/// An Aurora object read tolerantly through ``AuroraFields``.
public protocol AuroraObject: AuroraReadable {
    init(fields: some AuroraFields) throws
}

/// What the Aurora client can read from a parsed answer.
public protocol AuroraReadable {
    init(json: JSONValue) throws
}

extension AuroraObject {
    public init(json: JSONValue) throws {
        guard let fields = json.objectValue else { throw AuroraShapeError("\(Self.self) is not a JSON object") }
        try self.init(fields: JSONFields(fields))
    }
}

extension Array: AuroraReadable where Element: AuroraReadable {
    public init(json: JSONValue) throws {
        guard let items = json.arrayValue else { throw AuroraShapeError("expected a JSON array of \(Element.self)") }
        self = try items.map(Element.init(json:))
    }
}

/// An Aurora answer without the shape every reader needs (an object, an id).
public struct AuroraShapeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// ``AuroraFields`` over a parsed object.
struct JSONFields: AuroraFields {
    let fields: [String: JSONValue]

    init(_ fields: [String: JSONValue]) { self.fields = fields }

    public func string(_ names: String...) -> String? {
        for name in names {
            switch fields[name] {
            case .string(let value)?: return value
            case .number(let value)?: return JSONValue.number(value).text
            default: continue
            }
        }
        return nil
    }

    public func number(_ names: String...) -> Double? {
        for name in names {
            switch fields[name] {
            case .number(let value)?: return value
            case .string(let text)?: if let value = AuroraText.number(text) { return value }
            default: continue
            }
        }
        return nil
    }

    public func bool(_ name: String) -> Bool? {
        switch fields[name] {
        case .bool(let value)?: value
        case .string(let text)?: AuroraText.bool(text)
        default: nil
        }
    }

    public func date(_ names: String...) -> Date? {
        for name in names {
            if case .string(let text)? = fields[name], let date = AuroraTimestamp.parse(text) { return date }
        }
        return nil
    }

    func object<T: AuroraObject>(_ type: T.Type, _ name: String) -> T? {
        guard case .object(let nested)? = fields[name] else { return nil }
        return try? T(fields: JSONFields(nested))
    }

    func flexibleArray<T: AuroraObject>(_ type: T.Type, _ name: String) -> [T]? {
        switch fields[name] {
        case .array(let items)?: return try? [T](json: .array(items))
        case .string(let text)?: return (try? JSONParser.parse(Array(text.utf8))).flatMap { try? [T](json: $0) }
        default: return nil
        }
    }

    func numbers(_ name: String) -> [Double]? {
        guard case .array(let items)? = fields[name] else { return nil }
        let values = items.compactMap(\.numberValue)
        return values.count == items.count ? values : nil
    }

    func missing(_ name: String, _ what: String) -> any Error { AuroraShapeError(what) }
}

/// How Aurora writes numbers and flags as text.
enum AuroraText {
    /// The number in text such as "104%", " 3.05 " or "$40,260.00": `%`, `$` and `,` are
    /// dropped and surrounding whitespace trimmed; what is left must be a number.
    static func number(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        var cleaned = text.unicodeScalars
        cleaned.removeAll { $0 == "%" || $0 == "$" || $0 == "," }
        return Double(String(cleaned).trimmedWhitespace)
    }

    /// "true", "1" or "yes" in any case.
    static func bool(_ text: String) -> Bool { ["true", "1", "yes"].contains(text.lowercased()) }
}

/// Aurora's timestamp formats.
public enum AuroraTimestamp {
    /// Parses "2024-05-01 13:45:00 UTC" and ISO 8601 ("2024-05-01T13:45:00Z", with or without
    /// fractional seconds or an offset).
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmedWhitespace
        if trimmed.hasSuffix(" UTC") {
            let parts = trimmed.dropLast(4).split(separator: " ")
            if parts.count == 2 { return UTCTimestamp.parse("\(parts[0])T\(parts[1])Z") }
        }
        return UTCTimestamp.parse(trimmed)
    }
}

extension String {
    /// Lowercase with `_` for `-` and without surrounding spaces, for names Aurora spells in
    /// several ways (`cancel-pending`, `Cancel_Pending`); names already in that form (most) are
    /// returned as they are, without a trip through Foundation.
    public var normalizedName: String {
        let canonical = utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }
        if canonical { return self }
        return trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Without leading and trailing whitespace and newlines; the string itself when it has none
    /// (most values), without a trip through Foundation.
    var trimmedWhitespace: String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return self }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
