import ArgumentParser
import Bridge
import CLISupport
import Foundation
import Operations
import Records

/// `aurora-bridge tenants …`: the tenants registry.
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Work with the tenants registry (installer companies, their keys and mapping).",
        subcommands: [ValidateTenants.self, TenantCheckCommand.self, TenantURL.self, TenantSubscribe.self, HashToken.self]
    )
}

/// Where the tenants file is: `--tenants` or `AURORA_BRIDGE_TENANTS`.
extension TenantsRegistry {
    /// The tenant, or an error that lists the known slugs.
    func require(_ slug: String) throws -> TenantConfiguration {
        guard let tenant = self[slug] else {
            throw CLIError("no tenant '\(slug)' in the tenants file; known: \(slugs.joined(separator: ", "))")
        }
        return tenant
    }
}

struct ValidateTenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Load the tenants file, resolve every key from the environment or files, and list the tenants.",
        discussion: """
            Exits non-zero with the place and the fix when the file is malformed or a key is missing. \
            Keys are never printed; each shows as a short fingerprint. Defaults a tenant relies on are \
            listed under it: Coperniq's default property keyNames in particular must exist in the \
            company (`tenants check` says which do).

            Example:
              ACME_AURORA_KEY=sk_prod_… ACME_COPERNIQ_KEY=… \\
                aurora-bridge tenants validate --tenants tenants.yaml
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
            for line in tenant.defaultsInUse { print("    default: \(line)") }
        }
        print("\(registry.slugs.count) tenant(s) OK")
    }
}

struct HashToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Print the webhookTokenSHA256 of a webhook token (a new random token when none is given on stdin).",
        discussion: """
            The registry stores only the hash; Aurora sends the token in a header (or a `token` query \
            parameter) and the gateway compares hashes in constant time.

            Examples:
              aurora-bridge tenants hash-token    # a new token and its hash
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

struct TenantURL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url",
        abstract: "Print what to paste into the tenant's Aurora webhook form (onboarding step 3).",
        discussion: """
            Aurora: Settings → Webhooks → New Webhook. Event "agreement signed" \
            (agreement_status_changed), the URL template below, filter STATUS = signed, the auth header, \
            enabled. The token is the one whose hash is in the tenants file (it is not stored, so it \
            is not printed; `tenants hash-token` makes a new pair).

            Example:
              aurora-bridge tenants url acme-solar --tenants tenants.yaml \\
                --public-url https://bridge.example.com
            """
    )

    @Argument(help: "The tenant's slug.")
    var tenant: String

    @Option(help: "The gateway's public base URL; default: $AURORA_BRIDGE_PUBLIC_URL.")
    var publicURL: String?

    @Option(help: "The header the gateway reads the token from.")
    var tokenHeader = WebhookRequestHeader.token

    @OptionGroup var file: TenantsFileOption

    func run() async throws {
        let registry = try file.load()
        _ = try registry.require(tenant)
        guard let base = SettingsSources.value("publicUrl", flag: "--public-url", publicURL) else {
            throw ValidationError("pass --public-url https://<the gateway's public host> (or set AURORA_BRIDGE_PUBLIC_URL)")
        }
        print(WebhookSubscriber.urlTemplate(base: base, tenant: tenant))
        print("")
        print("Event:        agreement_status_changed   (\"agreement signed\" in Aurora's form)")
        print("Filter:       STATUS = \(WebhookSubscriber.statuses.joined(separator: ", "))")
        print("Auth header:  \(tokenHeader): <the tenant's webhook token>")
        print("              (API: header_auth_key=\(tokenHeader), header_auth_value=<token>)")
    }
}
