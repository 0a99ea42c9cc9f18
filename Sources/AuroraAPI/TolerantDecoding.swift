import Foundation

/// A coding key made from any string, for reading fields under several names.
struct AnyKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Aurora's fields drift between API versions (2022.09, 2024.05): these readers accept every
/// shape seen for a field and answer nil, never throw, for a field that is absent or unreadable.
extension KeyedDecodingContainer where Key == AnyKey {
    /// The first of `names` present with a usable value.
    func string(_ names: String...) -> String? {
        for name in names {
            let key = AnyKey(name)
            if let value = try? decodeIfPresent(String.self, forKey: key) { return value }
            if let value = try? decodeIfPresent(Double.self, forKey: key) {
                return value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
            }
        }
        return nil
    }

    /// A non-empty string (Aurora sends "" where it means none).
    func text(_ names: String...) -> String? {
        for name in names {
            if let value = string(name)?.trimmedWhitespace, !value.isEmpty { return value }
        }
        return nil
    }

    /// A number sent as a number or as text such as "104%", "3.05" or "$40,260.00".
    func number(_ names: String...) -> Double? {
        for name in names {
            let key = AnyKey(name)
            if let value = try? decodeIfPresent(Double.self, forKey: key) { return value }
            if let text = try? decodeIfPresent(String.self, forKey: key), let value = Self.parseNumber(text) { return value }
        }
        return nil
    }

    func bool(_ name: String) -> Bool? {
        let key = AnyKey(name)
        if let value = try? decodeIfPresent(Bool.self, forKey: key) { return value }
        if let text = try? decodeIfPresent(String.self, forKey: key) { return ["true", "1", "yes"].contains(text.lowercased()) }
        return nil
    }

    /// A timestamp as "YYYY-MM-DD HH:MM:SS UTC" (the agreement and project objects) or ISO 8601.
    func date(_ names: String...) -> Date? {
        for name in names {
            if let text = try? decodeIfPresent(String.self, forKey: AnyKey(name)), let date = AuroraTimestamp.parse(text) {
                return date
            }
        }
        return nil
    }

    /// A nested object, or nil when absent, null or of another shape.
    func object<T: Decodable>(_ type: T.Type, _ name: String) -> T? {
        (try? decodeIfPresent(T.self, forKey: AnyKey(name))) ?? nil
    }

    /// An array sent as a JSON array or as a string holding one (older design summaries).
    func flexibleArray<T: Decodable>(_ type: T.Type, _ name: String) -> [T]? {
        let key = AnyKey(name)
        if let array = try? decodeIfPresent([T].self, forKey: key) { return array }
        if let text = try? decodeIfPresent(String.self, forKey: key), let data = text.data(using: .utf8) {
            return try? JSONDecoder().decode([T].self, from: data)
        }
        return nil
    }

    /// The number in text such as "104%", " 3.05 " or "$40,260.00": `%`, `$` and `,` are
    /// dropped and surrounding whitespace trimmed; what is left must be a number.
    static func parseNumber(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        var cleaned = text.unicodeScalars
        cleaned.removeAll { $0 == "%" || $0 == "$" || $0 == "," }
        return Double(String(cleaned).trimmedWhitespace)
    }
}

/// Aurora's timestamp formats.
public enum AuroraTimestamp {
    /// Parses "2024-05-01 13:45:00 UTC" and ISO 8601 ("2024-05-01T13:45:00Z", with or without
    /// fractional seconds or an offset).
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmedWhitespace
        if trimmed.hasSuffix(" UTC") {
            let parts = trimmed.dropLast(4).split(separator: " ")
            if parts.count == 2 { return iso("\(parts[0])T\(parts[1])Z") }
        }
        return iso(trimmed)
    }

    private static func iso(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines; the string itself when it has none
    /// (most values), without a trip through Foundation.
    var trimmedWhitespace: String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return self }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
