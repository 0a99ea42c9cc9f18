import ArgumentParser
import Bridge
import Foundation

/// `aurora-bridge tenants …`: the tenants registry.
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Work with the tenants registry (installer companies, their keys and mapping).",
        subcommands: [ValidateTenants.self, HashToken.self]
    )
}

/// Where the tenants file is: `--tenants` or `AURORA_BRIDGE_TENANTS`.
struct TenantsFileOption: ParsableArguments {
    @Option(name: .customLong("tenants"), help: "The tenants file (YAML or JSON); default: $AURORA_BRIDGE_TENANTS.")
    var path: String?

    func resolvedPath() throws -> String {
        if let path { return path }
        if let path = ProcessInfo.processInfo.environment["AURORA_BRIDGE_TENANTS"], !path.isEmpty { return path }
        throw ValidationError("no tenants file: pass --tenants <file> or set AURORA_BRIDGE_TENANTS")
    }

    func load() throws -> TenantsRegistry {
        do {
            return try TenantsRegistry.load(path: try resolvedPath())
        } catch let error as TenantsError {
            throw ValidationError(error.description)
        }
    }
}

struct ValidateTenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Load the tenants file, resolve every key from the environment or files, and list the tenants.",
        discussion: """
            Exits non-zero with the place and the fix when the file is malformed or a key is missing.
            Keys are never printed; each shows as a short fingerprint.

            Example:
              ACME_AURORA_KEY=sk_prod_… ACME_COPERNIQ_KEY=… aurora-bridge tenants validate --tenants tenants.yaml
            """
    )

    @OptionGroup var file: TenantsFileOption

    func run() async throws {
        let registry = try file.load()
        for slug in registry.slugs {
            guard let tenant = registry[slug] else { continue }
            print("✓ \(slug): Aurora tenant \(tenant.aurora.tenantID) (key \(tenant.aurora.apiKey.fingerprint)…, \(tenant.aurora.requestsPerMinute.map { "\($0)/min" } ?? "unlimited")), "
                + "Coperniq key \(tenant.coperniq.apiKey.fingerprint)…, workflow \(tenant.coperniq.workflowID ?? "none"), "
                + "statuses \(tenant.statuses.sorted().joined(separator: ","))")
        }
        print("\(registry.slugs.count) tenant(s) OK")
    }
}

struct HashToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Print the webhookTokenSHA256 of a webhook token (a new random token when none is given on stdin).",
        discussion: """
            The registry stores only the hash; Aurora sends the token in a header (or a `token` query
            parameter) and the gateway compares hashes in constant time.

            Examples:
              aurora-bridge tenants hash-token                  # prints a new token and its hash
              printf '%s' "$TOKEN" | aurora-bridge tenants hash-token --stdin
            """
    )

    @Flag(help: "Read the token from standard input instead of generating one.")
    var stdin = false

    func run() async throws {
        if stdin {
            let token = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("standard input was empty: pipe the token in") }
            print(sha256Hex(token))
        } else {
            var generator = SystemRandomNumberGenerator()
            let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            print("token:              \(token)")
            print("webhookTokenSHA256: \(sha256Hex(token))")
        }
    }
}
