import Foundation
import HTTPAPI

/// A coding key made from any string, for reading fields under several names.
public struct AnyKey: CodingKey {
    public let stringValue: String
    public let intValue: Int? = nil
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// Aurora's fields drift between API versions (2022.09, 2024.05): these readers of one JSON
/// object accept every shape seen for a field and answer nil, never throw, for a field that is
/// absent or unreadable. Implemented over `Decoder` (the `Decodable` conformances) and over a
/// parsed ``JSONValue`` (what the client uses), with the same answers.
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
public protocol AuroraObject: Decodable, AuroraReadable {
    init(fields: some AuroraFields) throws
}

/// What the Aurora client can read from a parsed answer.
public protocol AuroraReadable {
    init(json: JSONValue) throws
}

extension AuroraObject {
    public init(from decoder: any Decoder) throws {
        try self.init(fields: decoder.container(keyedBy: AnyKey.self))
    }

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

extension KeyedDecodingContainer: AuroraFields where Key == AnyKey {
    /// The first of `names` present with a usable value.
    public func string(_ names: String...) -> String? {
        for name in names {
            let key = AnyKey(name)
            if let value = try? decodeIfPresent(String.self, forKey: key) { return value }
            if let value = try? decodeIfPresent(Double.self, forKey: key) { return JSONValue.number(value).text }
        }
        return nil
    }

    /// A number sent as a number or as text such as "104%", "3.05" or "$40,260.00".
    public func number(_ names: String...) -> Double? {
        for name in names {
            let key = AnyKey(name)
            if let value = try? decodeIfPresent(Double.self, forKey: key) { return value }
            if let text = try? decodeIfPresent(String.self, forKey: key), let value = AuroraText.number(text) { return value }
        }
        return nil
    }

    public func bool(_ name: String) -> Bool? {
        let key = AnyKey(name)
        if let value = try? decodeIfPresent(Bool.self, forKey: key) { return value }
        if let text = try? decodeIfPresent(String.self, forKey: key) { return AuroraText.bool(text) }
        return nil
    }

    /// A timestamp as "YYYY-MM-DD HH:MM:SS UTC" (the agreement and project objects) or ISO 8601.
    public func date(_ names: String...) -> Date? {
        for name in names {
            if let text = try? decodeIfPresent(String.self, forKey: AnyKey(name)), let date = AuroraTimestamp.parse(text) {
                return date
            }
        }
        return nil
    }

    /// A nested object, or nil when absent, null or of another shape.
    public func object<T: AuroraObject>(_ type: T.Type, _ name: String) -> T? {
        (try? decodeIfPresent(T.self, forKey: AnyKey(name))) ?? nil
    }

    /// An array sent as a JSON array or as a string holding one (older design summaries).
    public func flexibleArray<T: AuroraObject>(_ type: T.Type, _ name: String) -> [T]? {
        let key = AnyKey(name)
        if let array = try? decodeIfPresent([T].self, forKey: key) { return array }
        if let text = try? decodeIfPresent(String.self, forKey: key), let data = text.data(using: .utf8) {
            return try? JSONDecoder().decode([T].self, from: data)
        }
        return nil
    }

    public func numbers(_ name: String) -> [Double]? {
        (try? decodeIfPresent([Double].self, forKey: AnyKey(name))) ?? nil
    }

    public func missing(_ name: String, _ what: String) -> any Error {
        DecodingError.keyNotFound(AnyKey(name), .init(codingPath: codingPath, debugDescription: what))
    }
}

/// How Aurora writes numbers and flags as text, for both readers.
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
        if let date = parseUTC(trimmed) { return date }
        if trimmed.hasSuffix(" UTC") {
            let parts = trimmed.dropLast(4).split(separator: " ")
            if parts.count == 2 { return foundationISO8601("\(parts[0])T\(parts[1])Z") }
        }
        return foundationISO8601(trimmed)
    }

    /// The common UTC shapes, `YYYY-MM-DDTHH:MM:SS[.fraction]Z` and `YYYY-MM-DD HH:MM:SS[.fraction] UTC`,
    /// read without Foundation's formatters (a worker reads several per event); nil for anything
    /// else, including impossible dates, so that ``parse(_:)`` can hand it to Foundation.
    public static func parseUTC(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard bytes.count >= 20 else { return nil }
            func number(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for index in start..<(start + count) {
                    let digit = Int(bytes[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                  bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
                  bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                  let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
                  let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
                  (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            guard (1...monthDays).contains(day) else { return nil }
            var at = 19
            var fraction = 0.0
            if bytes[at] == UInt8(ascii: ".") {
                at += 1
                var scale = 0.1
                let start = at
                while at < bytes.count, (48...57).contains(bytes[at]) {
                    fraction += Double(bytes[at] - 48) * scale
                    scale /= 10
                    at += 1
                }
                guard at > start else { return nil }
            }
            let rest = bytes.count - at
            let utc = bytes[10] == UInt8(ascii: "T")
                ? rest == 1 && bytes[at] == UInt8(ascii: "Z")
                : rest == 4 && bytes[at] == UInt8(ascii: " ") && bytes[at + 1] == UInt8(ascii: "U")
                    && bytes[at + 2] == UInt8(ascii: "T") && bytes[at + 3] == UInt8(ascii: "C")
            guard utc else { return nil }
            // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
            return Date(timeIntervalSince1970: Double(seconds) + fraction)
        }
    }

    /// ISO 8601 with or without fractional seconds or an offset: the UTC shapes of ``parseUTC(_:)``
    /// without Foundation, the others through it.
    public static func iso8601(_ text: String) -> Date? {
        parseUTC(text) ?? foundationISO8601(text)
    }

    /// ISO 8601 through Foundation's formatters, with or without fractional seconds.
    private static func foundationISO8601(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
