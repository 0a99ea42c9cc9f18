import Bridge
import Foundation
import Logging
import Sandbox

/// A tenants registry for a sandbox's seeded tenants, keys passed through an environment map.
public struct SandboxTenants: Sendable {
    public let registry: TenantsRegistry
    /// The registry's text (keys are `env:` references into ``environment``).
    public let yaml: String
    /// The keys, by variable name.
    public let environment: [String: String]
    /// The webhook token of each tenant (`token-<slug>`).
    public static func token(_ slug: String) -> String { "token-\(slug)" }

    /// Every extra off: what tests of the project itself (mapping, upsert, the pipeline) use.
    public static let noExtras = "{ signedAgreement: false, proposalPDF: false, dealNote: false, lineItems: false, cancellationNote: false }"

    /// - Parameters:
    ///   - auroraPerMinute: per-tenant Aurora limits by slug (absent: unlimited).
    ///   - extras: every tenant's `extras:` as YAML (``noExtras`` unless a test is about them; nil:
    ///     the registry's default, ``Bridge/ProjectExtras/standard``).
    public init(_ sandbox: Sandbox, auroraPerMinute: [String: Int] = [:], extras: String? = SandboxTenants.noExtras) throws {
        var environment: [String: String] = [:]
        var yaml = """
            defaults:
              auroraBaseURL: \(sandbox.auroraBaseURL)
              coperniqBaseURL: \(sandbox.coperniqBaseURL)
              auroraRequestsPerMinute: 0
              coperniqRequestsPerSecond: 0
              coperniqRequestsPerDay: 0
            \(extras.map { "  extras: \($0)\n" } ?? "")tenants:

            """
        for tenant in sandbox.tenants {
            let name = tenant.slug.uppercased().replacingOccurrences(of: "-", with: "_")
            environment["\(name)_AURORA"] = tenant.auroraAPIKey
            environment["\(name)_COPERNIQ"] = tenant.coperniqAPIKey
            let limit = auroraPerMinute[tenant.slug].map { ", requestsPerMinute: \($0)" } ?? ""
            yaml += """
                  - slug: \(tenant.slug)
                    webhookTokenSHA256: \(sha256Hex(Self.token(tenant.slug)))
                    aurora: { tenantID: "\(tenant.auroraTenantID)", apiKey: { env: \(name)_AURORA }\(limit) }
                    coperniq: { apiKey: { env: \(name)_COPERNIQ }, workflowID: "\(tenant.coperniqWorkflowID)" }

                """
        }
        registry = try TenantsRegistry.parse(yaml, environment: environment)
        self.yaml = yaml
        self.environment = environment
    }
}

/// A started sandbox with the services' rate limits off (tests set their own) and quiet logs.
public func startQuietSandbox(_ configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws -> Sandbox {
    var configuration = SandboxConfiguration()
    configuration.auroraRequestsPerMinute = nil
    configuration.coperniqRequestsPerSecond = nil
    configuration.coperniqRequestsPerDay = nil
    configure(&configuration)
    var logger = Logger(label: "sandbox")
    logger.logLevel = .critical
    let sandbox = Sandbox(configuration: configuration, logger: logger)
    try await sandbox.start()
    return sandbox
}
