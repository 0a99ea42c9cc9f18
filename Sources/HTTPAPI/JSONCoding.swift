import Foundation

/// The package's one configuration of Codable JSON, for what is not on a measured hot path (those
/// read with ``JSONParser`` and write with ``JSONBytes``): compact, keys sorted, slashes as they are,
/// dates as ISO 8601.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// For people: indented (`dlq … --json`, `sandbox --tenants-out`, the sandbox's answers).
    public static let prettyEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// Indented JSON text of `value`, for printing.
    public static func pretty(_ value: some Encodable) throws -> String {
        String(decoding: try prettyEncoder.encode(value), as: UTF8.self)
    }
}
