import ArgumentParser
import Bridge
import ServiceLifecycle

/// The options the gateway and the worker share: Kafka, the tenants file, logging, tracing and
/// the settings file.
public struct RuntimeOptions: ParsableArguments, Sendable {
    public init() {}

    @OptionGroup public var kafka: KafkaOptions
    @OptionGroup public var tenants: TenantsFileOption
    @OptionGroup public var logging: LoggingOptions
    @OptionGroup public var tracing: TracingOptions
    @OptionGroup public var settingsFile: SettingsOptions

    /// Reads the runtime's settings (its own `flags` and these), then bootstraps logging and the
    /// tracer, before the runtime makes its configuration (which takes the process's tracer).
    /// - Returns: the settings, and the span exporter's service to run first, if any.
    public func start(_ flags: FlagSettings, serviceName: String) async throws -> (settings: Settings, exporter: (any Service)?) {
        var flags = flags
        kafka.add(to: &flags)
        tenants.add(to: &flags)
        logging.add(to: &flags)
        tracing.add(to: &flags)
        let settings = try await settingsFile.settings(flags: flags)
        try logging.bootstrap(settings)
        return (settings, try TracingOptions.bootstrap(settings, serviceName: serviceName))
    }
}

extension FlagSettings {
    /// A duration flag with its older milliseconds form (`--publish-timeout 5s` or the hidden
    /// `--publish-timeout-ms 5000`); giving both is an error.
    public mutating func set(_ key: String, flag: String, duration: String?, milliseconds: Int?) throws {
        if duration != nil, milliseconds != nil {
            throw ValidationError("give \(flag) as a duration (e.g. 5s), not also its older \(flag)-ms form")
        }
        set(key, flag: flag, duration ?? milliseconds.map { "\($0)ms" })
    }
}
