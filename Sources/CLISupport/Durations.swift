import ArgumentParser
import Foundation

/// A comma-separated list of durations (`30s,5m,30m`), each as ``parseDuration(_:option:)`` reads it.
public func parseDurations(_ text: String, option: String) throws -> [Duration] {
    try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        .map { try parseDuration($0, option: option) }
}

/// The one duration syntax of every flag: a non-negative number with a unit, `ms`, `s`, `m`, `h` or
/// `d` (none: seconds), e.g. `500ms`, `30s`, `1.5h`, `2d`.
public func parseDuration(_ text: String, option: String) throws -> Duration {
    let part = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    for (suffix, scale) in units where part.hasSuffix(suffix) {
        if let value = Double(part.dropLast(suffix.count)), value >= 0, value * scale <= 1e9 { return .milliseconds(Int64(value * scale * 1000)) }
    }
    if let value = Double(part), value >= 0, value <= 1e9 { return .milliseconds(Int64(value * 1000)) }
    throw ValidationError("\(option): '\(part)' is not a duration; write e.g. 500ms, 30s, 5m, 1.5h or 2d")
}
