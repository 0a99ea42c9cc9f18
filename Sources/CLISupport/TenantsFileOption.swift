import ArgumentParser
import Bridge
import Foundation

/// `--tenants`, shared by every command that reads the tenants file.
public struct TenantsFileOption: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("tenants"), help: "The tenants file (YAML or JSON); default: $AURORA_BRIDGE_TENANTS.")
    public var path: String?

    public func resolvedPath() throws -> String {
        if let path { return path }
        if let path = ProcessInfo.processInfo.environment["AURORA_BRIDGE_TENANTS"], !path.isEmpty { return path }
        throw ValidationError("no tenants file: pass --tenants <file> or set AURORA_BRIDGE_TENANTS")
    }

    public func load() throws -> TenantsRegistry {
        do {
            return try TenantsRegistry.load(path: try resolvedPath())
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
    }
}
