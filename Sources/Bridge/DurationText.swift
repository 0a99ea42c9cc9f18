import Foundation

/// The one duration syntax of every flag, environment variable and settings file: a non-negative
/// number with a unit, `ms`, `s`, `m`, `h` or `d` (none: seconds), e.g. `500ms`, `30s`, `1.5h`, `2d`;
/// a list is comma-separated (`30s,5m,30m`).
public enum DurationText {
    /// The duration `text` writes, nil when it is not one.
    public static func parse(_ text: some StringProtocol) -> Duration? {
        let part = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, scale) in units where part.hasSuffix(suffix) {
            if let value = Double(part.dropLast(suffix.count)), value >= 0, value * scale <= 1e9 { return .milliseconds(Int64(value * scale * 1000)) }
        }
        if let value = Double(part), value >= 0, value <= 1e9 { return .milliseconds(Int64(value * 1000)) }
        return nil
    }

    /// The durations of a comma-separated list; nil when one of them is not a duration.
    public static func parseList(_ text: some StringProtocol) -> [Duration]? {
        var durations: [Duration] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let duration = parse(part) else { return nil }
            durations.append(duration)
        }
        return durations
    }

    /// What to write instead, for error messages.
    public static let examples = "e.g. 500ms, 30s, 5m, 1.5h or 2d"
}
