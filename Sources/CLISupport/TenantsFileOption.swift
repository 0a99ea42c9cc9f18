import ArgumentParser
import Bridge
import Foundation

/// `--tenants`, shared by every command that reads the tenants file.
public struct TenantsFileOption: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("tenants"), help: "The tenants file (YAML or JSON); default: $AURORA_BRIDGE_TENANTS.")
    public var path: String?

    /// Adds `--tenants` to a runtime's flag settings (key `tenants`).
    public func add(to flags: inout FlagSettings) {
        flags.set("tenants", flag: "--tenants", path)
    }

    /// The tenants file `settings` name.
    public static func path(_ settings: Settings) throws -> String {
        guard let path = settings.string("tenants"), !path.isEmpty else {
            throw ValidationError("no tenants file: pass --tenants <file>, set AURORA_BRIDGE_TENANTS, or name it as tenants in the settings file")
        }
        return path
    }

    /// The tenants file of `--tenants` or `AURORA_BRIDGE_TENANTS` (commands without `--config`).
    public func resolvedPath() throws -> String {
        var flags = FlagSettings()
        add(to: &flags)
        return try Self.path(SettingsSources.flagsAndEnvironment(flags))
    }

    public func load() throws -> TenantsRegistry {
        do {
            return try TenantsRegistry.load(path: try resolvedPath())
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
    }
}
