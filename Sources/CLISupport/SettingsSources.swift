import ArgumentParser
import Bridge
import Configuration
import Foundation
import SystemPackage

/// `--config`: where a runtime's settings come from, highest first: its flags, then
/// `AURORA_BRIDGE_*` environment variables, then a YAML or JSON settings file, then the defaults.
///
/// A key such as `gateway.publishTimeout` is the flag `--publish-timeout`, the variable
/// `AURORA_BRIDGE_GATEWAY_PUBLISH_TIMEOUT` and, in the file, `gateway: {publishTimeout: 5s}`.
/// `CONFIG_ACCESS_LOG_FILE=<path>` (swift-configuration's) logs where each value came from,
/// secrets redacted.
public struct SettingsOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("config"), help: """
        A YAML or JSON settings file (keys as in README, e.g. gateway.port, worker.retryDelays); \
        flags and AURORA_BRIDGE_* variables win over it. Default: $AURORA_BRIDGE_CONFIG.
        """)
    public var file: String?

    /// The settings of `flags`, the environment and the settings file, if one is named. Every read
    /// is told to `accessReporter` (with `CONFIG_ACCESS_LOG_FILE` set, also to that file).
    public func settings(flags: FlagSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
                         accessReporter: (any AccessReporter)? = nil) async throws -> Settings {
        var providers: [any ConfigProvider] = [flags.provider, SettingsSources.environment(environment)]
        if let path = file ?? environment[SettingsSources.fileVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ValidationError("the settings file \(path) cannot be read; check the path given to --config or \(SettingsSources.fileVariable)")
            }
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
            } catch {
                throw ValidationError("the settings file \(path) is not YAML or JSON of settings: \(error)")
            }
        }
        return Settings(ConfigReader(providers: providers, accessReporter: accessReporter), flags: flags.names)
    }
}

/// The sources every command shares.
public enum SettingsSources {
    /// Names a settings file when `--config` does not.
    public static let fileVariable = "AURORA_BRIDGE_CONFIG"

    /// Keys whose values are secrets: never logged, never in an error message.
    public static let secretKeys: Set<String> = ["kafkaProperties", "webhookToken"]

    /// `AURORA_BRIDGE_*` variables, read as settings keys (`AURORA_BRIDGE_GATEWAY_PORT` is `gateway.port`).
    public static func environment(_ environment: [String: String]) -> some ConfigProvider {
        EnvironmentVariablesProvider(environmentVariables: environment,
                                     secretsSpecifier: .specific(Set(secretKeys.map(SettingsError.environmentName))))
            .prefixKeys(with: ConfigKey(["auroraBridge"]))
    }

    /// One value of the operator commands: `flag`'s when given, else `AURORA_BRIDGE_<KEY>`'s; nil
    /// when neither is set or it is empty.
    public static func value(_ key: String, flag: String, _ given: String?, isSecret: Bool = false,
                             environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        var flags = FlagSettings()
        flags.set(key, flag: flag, given)
        return flagsAndEnvironment(flags, environment: environment).string(key, isSecret: isSecret).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Flags and the environment only: for the operator commands, which take no settings file.
    public static func flagsAndEnvironment(_ flags: FlagSettings,
                                           environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
        Settings(ConfigReader(providers: [flags.provider, Self.environment(environment)]), flags: flags.names)
    }
}

/// The settings a command's flags give, with each key's flag for error messages.
public struct FlagSettings: Sendable {
    private var values: [AbsoluteConfigKey: ConfigValue] = [:]
    /// The flag of each key.
    public private(set) var names: [String: String] = [:]

    public init() {}

    /// `key` is `flag`; set to `value` when the flag was given.
    public mutating func set(_ key: String, flag: String, _ value: (some CustomStringConvertible)?) {
        names[key] = flag
        if let value { values[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value.description), isSecret: SettingsSources.secretKeys.contains(key)) }
    }

    /// `key` is the repeatable `flag`; set when it was given at least once.
    public mutating func set(_ key: String, flag: String, _ list: [String]) {
        names[key] = flag
        if !list.isEmpty { values[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.stringArray(list), isSecret: SettingsSources.secretKeys.contains(key)) }
    }

    var provider: InMemoryProvider { InMemoryProvider(name: "flags", values: values) }
}
