import Configuration
import Foundation

/// A runtime's settings read strictly from a swift-configuration `ConfigReader`: a value that is
/// set but not of its type or out of range is an error naming the setting, never a silent default.
///
/// Keys are camelCase paths (`gateway.publishTimeout`); the executables read them from their flags,
/// then `AURORA_BRIDGE_*` environment variables (`AURORA_BRIDGE_GATEWAY_PUBLISH_TIMEOUT`), then a
/// settings file (`--config`), in that order (`CLISupport/SettingsSources`).
public struct Settings: Sendable {
    public let reader: ConfigReader
    /// The command-line flag of each key that has one, for error messages.
    public let flags: [String: String]

    public init(_ reader: ConfigReader, flags: [String: String] = [:]) {
        self.reader = reader
        self.flags = flags
    }

    /// The error for a value of `key` that is wrong.
    public func error(_ key: String, _ problem: String) -> SettingsError {
        SettingsError(key: key, flag: flags[key], problem: problem)
    }

    public func string(_ key: String, default value: String, isSecret: Bool = false) -> String {
        string(key, isSecret: isSecret) ?? value
    }

    /// The text a source sets for `key`, nil when none does. Every source here gives scalars as
    /// text (flags, environment variables, YAML), so values are parsed by the methods below, which
    /// say what is wrong instead of falling back to the default as `ConfigReader`'s typed reads do.
    public func string(_ key: String, isSecret: Bool = false) -> String? {
        reader.string(forKey: ConfigKey(key), isSecret: isSecret)
    }

    public func int(_ key: String, default value: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let text = string(key) else { return value }
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw error(key, "'\(text)' is not a whole number")
        }
        guard range.contains(number) else { throw error(key, "is \(number); it must be \(Self.describe(range))") }
        return number
    }

    /// A duration in the one syntax (``DurationText``), at least `minimum`.
    public func duration(_ key: String, default value: Duration, minimum: Duration = .zero) throws -> Duration {
        guard let text = string(key) else { return value }
        guard let duration = DurationText.parse(text) else {
            throw error(key, "'\(text)' is not a duration; write \(DurationText.examples)")
        }
        guard duration >= minimum else { throw error(key, "is \(text); it must be at least \(minimum)") }
        return duration
    }

    /// A comma-separated list of durations, or a list in a settings file.
    public func durations(_ key: String, default value: [Duration]) throws -> [Duration] {
        let values = strings(key)
        guard !values.isEmpty else { return value }
        let text = values.joined(separator: ",")
        guard let durations = DurationText.parseList(text), !durations.isEmpty else {
            throw error(key, "'\(text)' is not a list of durations; write e.g. 30s,5m,30m")
        }
        return durations
    }

    /// A list: comma-separated in an environment variable, a list in a settings file; each value
    /// secret when `isSecret` (librdkafka properties may hold passwords).
    public func strings(_ key: String, isSecret: Bool = false) -> [String] {
        reader.stringArray(forKey: ConfigKey(key), isSecret: isSecret) ?? string(key, isSecret: isSecret).map { [$0] } ?? []
    }

    /// A value of a type with a fixed set of names (`RawRepresentable` by `String`).
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws -> T where T.RawValue == String {
        guard let text = string(key) else { return value }
        guard let choice = T(rawValue: text) else {
            throw error(key, "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "at least \(range.lowerBound)" }
        return "\(range.lowerBound)–\(range.upperBound)"
    }
}

/// A setting that is set wrongly: names the setting, where it can be given, and what it must be.
/// Only settings that are not secret are read by the methods that quote the value.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let flag: String?
    public let problem: String

    public init(key: String, flag: String? = nil, problem: String) {
        self.key = key
        self.flag = flag
        self.problem = problem
    }

    /// The environment variable a key is read from: `gateway.publishTimeout` →
    /// `AURORA_BRIDGE_GATEWAY_PUBLISH_TIMEOUT`.
    public static func environmentName(_ key: String) -> String {
        var name = "AURORA_BRIDGE"
        for component in key.split(separator: ".") {
            name += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { name += "_" }
                name += character.uppercased()
                previous = character
            }
        }
        return name
    }

    /// `--max-retry-after (worker.maxRetryAfter, AURORA_BRIDGE_WORKER_MAX_RETRY_AFTER): '2x' is not a
    /// duration; …`: every place the value can come from, then what is wrong.
    public var description: String {
        let places = [key, Self.environmentName(key)].joined(separator: ", ")
        return "\(flag.map { "\($0) (\(places))" } ?? places): \(problem)"
    }
}
