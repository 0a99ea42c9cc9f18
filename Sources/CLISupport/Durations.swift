import ArgumentParser
import Bridge

/// A flag's duration in the one syntax (``DurationText``): `500ms`, `30s`, `5m`, `1.5h`, `2d`.
public func parseDuration(_ text: String, option: String) throws -> Duration {
    guard let duration = DurationText.parse(text) else {
        throw ValidationError("\(option): '\(text.trimmingCharacters(in: .whitespaces))' is not a duration; write \(DurationText.examples)")
    }
    return duration
}
