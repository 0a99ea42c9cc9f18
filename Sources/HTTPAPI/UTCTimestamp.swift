import Foundation

/// ISO 8601 UTC time with milliseconds (`2026-11-27T04:45:03.123Z`), written without Foundation's
/// formatters (for JSON documents and log lines, where their cost showed).
public enum UTCTimestamp {
    /// Appends `date` to `bytes`; a year outside 0–9999 goes through Foundation's ISO 8601 style.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
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
        digits(year, 4, to: &bytes); bytes.append(UInt8(ascii: "-"))
        digits(month, 2, to: &bytes); bytes.append(UInt8(ascii: "-"))
        digits(day, 2, to: &bytes); bytes.append(UInt8(ascii: "T"))
        digits(inDay / 3_600_000, 2, to: &bytes); bytes.append(UInt8(ascii: ":"))
        digits(inDay / 60_000 % 60, 2, to: &bytes); bytes.append(UInt8(ascii: ":"))
        digits(inDay / 1000 % 60, 2, to: &bytes); bytes.append(UInt8(ascii: "."))
        digits(inDay % 1000, 3, to: &bytes); bytes.append(UInt8(ascii: "Z"))
    }

    private static func digits(_ value: Int64, _ width: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
