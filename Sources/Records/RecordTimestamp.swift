import Foundation
import HTTPAPI

/// Timestamps in headers and record values: ISO 8601 with milliseconds, UTC
/// (`2026-11-27T04:45:03.123Z`).
public enum RecordTimestamp {
    public static func text(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        UTCTimestamp.append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The date of a timestamp written by ``text(_:)`` (or any ISO 8601 text); nil for nil or text
    /// that is not one.
    public static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        return UTCTimestamp.parse(text)
    }
}
