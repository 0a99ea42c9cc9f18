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
    public static func parse(_ text: String) -> Date? {
        if let date = parseUTC(text) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
